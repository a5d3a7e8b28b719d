import type { BusModesResult } from './workloads/bus-modes.js'
import type { FailoverResult } from './workloads/failover.js'
import type { HitResult } from './workloads/hit.js'
import type { HotKeyResult } from './workloads/hot-key.js'
import type { HttpResult } from './workloads/http.js'
import type { MemoryResult } from './workloads/memory.js'
import type { StalenessResult } from './workloads/staleness.js'
import type { StampedeResult } from './workloads/stampede.js'
import type { LocalStampedeResult } from './workloads/stampede-local.js'

/** The machine and software a run measured on. */
export interface Environment {
  node: string
  os: string
  cpus: number
  cpuModel: string
  memoryBytes: number
  redis: string
  cluster: { masters: number; replicasPerMaster: number }
  /** Package name to installed version, for every library the bench compares. */
  versions: Record<string, string>
}

/** Everything one `pnpm bench` measured; the report and the charts are made from this alone. */
export interface BenchResults {
  startedAt: string
  finishedAt: string
  environment: Environment
  l1?: HitResult
  l2?: HitResult
  stampedeLocal?: LocalStampedeResult
  stampede?: StampedeResult
  staleness?: StalenessResult
  failover?: FailoverResult
  hotKey?: HotKeyResult
  memory?: MemoryResult
  busModes?: BusModesResult
  http?: HttpResult
}
