/**
 * The messages between the chaos coordinator and its worker processes (Node IPC, structured
 * clone). The "database" is one version number per key. The coordinator numbers the writes;
 * every worker keeps a copy of the versions, so a loader reads it in its own process instead of
 * making a round trip through the coordinator (which also runs the faults: a busy coordinator
 * made loads slow, the harness's time, not the library's). A write is committed once every
 * worker has its new version: only then does the writer invalidate, so a load that starts after
 * an invalidation resolved sees the version that invalidation was for, as with a real database.
 */

/** What a worker needs to start its cache instance and its load. */
export interface WorkerConfig {
  readonly seeds: readonly { host: string; port: number }[]
  readonly namespace: string
  readonly keys: number
  /** Concurrent read/write loops in the worker. */
  readonly loops: number
  /**
   * Steps (reads and writes) per second the worker's loops make together, at most: each loop
   * pauses between steps. Unpaced loops keep the process always runnable, and on a busy machine
   * a process that always wants the CPU waits longest for it: the reads then measure the
   * scheduler's queue, not the cache. A service has idle time between requests; so does this load.
   */
  readonly stepsPerSecond: number
  /** Share of loop iterations that write (bump the version, then invalidate). */
  readonly writeShare: number
  /** Share of reads made through getMany (batches of 4). */
  readonly batchShare: number
  readonly l1TtlMs: number
  readonly seed: number
  /** Reads slower than this many ms are reported with their trace. */
  readonly traceOverMs: number
}

/** One slow read and where its time went. */
export interface SlowReadDetail {
  readonly worker: number
  readonly keys: readonly number[]
  readonly start: number
  readonly end: number
  readonly batch: boolean
  readonly tier: string
  readonly loaderMs: number
  /** The worst event-loop stall of the worker during the read, and the CPU ms it burned meanwhile. */
  readonly loopLagMaxMs: number
  readonly loopLagCpuMs: number
  readonly steps: readonly string[]
}

/**
 * Records of finished reads, flattened: `[keyIndex, version, startMs, endMs, how, ...]`, where
 * `how` is the worker's pid times 8 plus the index of the tier that answered in {@link TIERS}.
 */
export const READ_FIELDS = 5

/** The tiers a read record names (`batch`: a getMany; `joined`: answered by another read's flight). */
export const TIERS = ['l1', 'l2', 'stale', 'miss', 'joined', 'batch', 'unknown'] as const

/** `how` of a read record: who read, and which tier answered. */
export function describeHow(how: number): string {
  return `worker ${Math.floor(how / 8)}, ${TIERS[how % 8] ?? 'unknown'}`
}

export type WorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'bump'; readonly requestId: number; readonly key: number }
  /** The worker holds `version` of `key` in its copy of the database. */
  | { readonly type: 'version-held'; readonly requestId: number }
  | { readonly type: 'reads'; readonly records: number[] }
  | { readonly type: 'invalidated'; readonly key: number; readonly version: number; readonly resolvedAt: number }
  | { readonly type: 'caller-error'; readonly key: number; readonly at: number; readonly message: string }
  | { readonly type: 'wrong-value'; readonly key: number; readonly at: number; readonly got: string }
  /** A read slower than `WorkerConfig.traceOverMs`, with where its time went (see read-trace.ts). */
  | { readonly type: 'slow-read'; readonly detail: SlowReadDetail }
  /** A lock this worker held longer than `traceOverMs` (see read-trace.ts `LockLedger`). */
  | {
      readonly type: 'long-lock'
      readonly key: string
      /** When the attempt that took it was made (`Date.now()`). */
      readonly at: number
      readonly heldMs: number
      readonly freed: boolean
      readonly events: readonly string[]
    }
  /** What the cache logged at info or above (the bus lost and back, breakers, outbox), for the stale-read histories. */
  | { readonly type: 'log'; readonly at: number; readonly level: string; readonly message: string }
  /** How many reads each tier answered in this worker (`joined`: answered by another read's flight). */
  | { readonly type: 'tiers'; readonly counts: Record<string, number> }
  /**
   * `loopDelayMaxMs`: the longest the worker's event loop was late over the run (`monitorEventLoopDelay`), in ms;
   * `loads`: loader calls of ids made in the worker.
   */
  | { readonly type: 'stopped'; readonly loopDelayMaxMs: number; readonly loads: number }

export type CoordinatorMessage =
  | { readonly type: 'go' }
  | { readonly type: 'stop' }
  /** A write's version: every worker holds it now, the writer may invalidate. */
  | { readonly type: 'version'; readonly requestId: number; readonly version: number }
  /** Keep `version` of `key` in the worker's copy of the database, and say so with `version-held`. */
  | { readonly type: 'hold-version'; readonly requestId: number; readonly key: number; readonly version: number }

/** The value the loader returns and every read checks: the key it belongs to and its version. */
export interface ChaosValue {
  readonly key: number
  readonly version: number
}
