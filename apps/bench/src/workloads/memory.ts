import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { NodeAddress } from '@tiercache/testkit'
import { contendersFor } from '../adapters/index.js'
import { median } from '../harness.js'
import { uniqueNamespace } from './common.js'
import type { MemoryWorkerConfig, MemoryWorkerReport } from './memory-protocol.js'

/** Entries held in memory, and the JSON size of each. */
export const MEMORY_ENTRIES = 10_000
export const MEMORY_VALUE_BYTES = 1_024
/** Runs per contender (a fresh process each), interleaved across contenders. */
export const MEMORY_RUNS = 3
const WORKER_TIMEOUT_MS = 60_000

/** One contender's figures. */
export interface MemoryFigure {
  contender: string
  /** Median over the runs of heap + external growth for the entries (bytes). */
  bytes: number
  /** The same per entry. */
  bytesPerEntry: number
  /** Median over the runs of entries that had been evicted when read back. */
  reloaded: number
  runs: MemoryWorkerReport[]
}

/** (h) the memory workload's result. */
export interface MemoryResult {
  entries: number
  valueJsonBytes: number
  figures: MemoryFigure[]
}

/**
 * (h) Memory for `MEMORY_ENTRIES` values of about `MEMORY_VALUE_BYTES` each in the memory tier:
 * every run is a fresh process (`--expose-gc`) with one contender in its default set-up; heap and
 * Buffer growth over the fill is measured after full GCs.
 */
export async function runMemory(seeds: readonly NodeAddress[], children: Set<ChildProcess>): Promise<MemoryResult> {
  const specs = contendersFor('l1')
  const runs = new Map<string, MemoryWorkerReport[]>(specs.map((s) => [s.name, []]))
  for (let run = 0; run < MEMORY_RUNS; run++) {
    for (const spec of specs) {
      const config: MemoryWorkerConfig = {
        seeds: [...seeds],
        namespace: uniqueNamespace('mem', spec.name),
        contender: spec.name,
        entries: MEMORY_ENTRIES,
        valueBytes: MEMORY_VALUE_BYTES,
      }
      runs.get(spec.name)?.push(await runWorker(config, children))
    }
  }
  const figures = specs.map((spec) => {
    const list = runs.get(spec.name) ?? []
    const bytes = median(list.map((r) => r.heapBytes + r.externalBytes))
    return { contender: spec.name, bytes, bytesPerEntry: bytes / MEMORY_ENTRIES, reloaded: median(list.map((r) => r.reloaded)), runs: list }
  })
  return { entries: MEMORY_ENTRIES, valueJsonBytes: figures[0]?.runs[0]?.valueJsonBytes ?? MEMORY_VALUE_BYTES, figures }
}

function runWorker(config: MemoryWorkerConfig, children: Set<ChildProcess>): Promise<MemoryWorkerReport> {
  const script = fileURLToPath(new URL('./memory-worker.js', import.meta.url))
  const child = fork(script, [JSON.stringify(config)], { execArgv: ['--expose-gc'], stdio: 'inherit' })
  children.add(child)
  return new Promise((resolve, reject) => {
    let report: MemoryWorkerReport | undefined
    const timer = setTimeout(() => child.kill('SIGKILL'), WORKER_TIMEOUT_MS)
    child.on('message', (message: MemoryWorkerReport) => {
      report = message
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      children.delete(child)
      if (report !== undefined) resolve(report)
      else reject(new Error(`memory worker for ${config.contender} exited (code ${code}) without a report`))
    })
  })
}
