import type { NodeAddress } from '@tiercache/testkit'
import type { ContenderName } from '../adapters/index.js'

/** What the parent passes to a memory worker (its one argument, JSON). */
export interface MemoryWorkerConfig {
  seeds: NodeAddress[]
  namespace: string
  contender: ContenderName
  entries: number
  valueBytes: number
}

/** What a memory worker reports. */
export interface MemoryWorkerReport {
  /** V8 heap growth over the fill, after full GCs (bytes). */
  heapBytes: number
  /** Growth of memory outside the heap (Buffers), after full GCs (bytes). */
  externalBytes: number
  /** JSON bytes of one value. */
  valueJsonBytes: number
  /** Entries that were no longer in memory when read back (0: all were held). */
  reloaded: number
}
