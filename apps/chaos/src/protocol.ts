/**
 * The messages between the chaos coordinator and its worker processes (Node IPC, structured
 * clone). The coordinator holds the "database" (one version number per key): loaders ask it for
 * the current version, writers bump it before they invalidate.
 */

/** What a worker needs to start its cache instance and its load. */
export interface WorkerConfig {
  readonly seeds: readonly { host: string; port: number }[]
  readonly namespace: string
  readonly keys: number
  /** Concurrent read/write loops in the worker. */
  readonly loops: number
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
  readonly ipcMs: number
  readonly toCoordinatorMs: number
  readonly pendingAtStart: number
  readonly loopLagMaxMs: number
  readonly steps: readonly string[]
}

/** Records of finished reads, flattened: `[keyIndex, version, startMs, endMs, ...]`. */
export const READ_FIELDS = 4

export type WorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'load'; readonly requestId: number; readonly key: number }
  | { readonly type: 'bump'; readonly requestId: number; readonly key: number }
  | { readonly type: 'reads'; readonly records: number[] }
  | { readonly type: 'invalidated'; readonly key: number; readonly version: number; readonly resolvedAt: number }
  | { readonly type: 'caller-error'; readonly key: number; readonly at: number; readonly message: string }
  | { readonly type: 'wrong-value'; readonly key: number; readonly at: number; readonly got: string }
  /** A read slower than `WorkerConfig.traceOverMs`, with where its time went (see read-trace.ts). */
  | { readonly type: 'slow-read'; readonly detail: SlowReadDetail }
  /** How many reads each tier answered in this worker (`joined`: answered by another read's flight). */
  | { readonly type: 'tiers'; readonly counts: Record<string, number> }
  /** `loopDelayMaxMs`: the longest the worker's event loop was late over the run (`monitorEventLoopDelay`), in ms. */
  | { readonly type: 'stopped'; readonly loopDelayMaxMs: number }

export type CoordinatorMessage =
  | { readonly type: 'go' }
  | { readonly type: 'stop' }
  /** `handledAt`: the coordinator's `Date.now()` when it handled the request (same machine, same clock). */
  | { readonly type: 'version'; readonly requestId: number; readonly version: number; readonly handledAt: number }

/** The value the loader returns and every read checks: the key it belongs to and its version. */
export interface ChaosValue {
  readonly key: number
  readonly version: number
}
