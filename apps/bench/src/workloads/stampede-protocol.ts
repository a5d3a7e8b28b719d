import type { NodeAddress } from '@tiercache/testkit'
import type { ContenderName, Profile } from '../adapters/index.js'

/** What the parent passes to each stampede worker (as its one argument, JSON). */
export interface StampedeWorkerConfig {
  seeds: NodeAddress[]
  namespace: string
  contender: ContenderName
  profile: Profile
  /** Concurrent `get` calls per worker on the cold key. */
  callers: number
  /** How long the loader takes (ms). */
  loaderMs: number
}

/** Parent to worker: start a round on `key` (cold: never read before). */
export interface GoMessage {
  type: 'go'
  round: number
  key: string
}

/** Worker to parent: connected and idle, waiting for `go`. */
export interface ReadyMessage {
  type: 'ready'
}

/** Worker to parent: every caller of the round has its value. */
export interface DoneMessage {
  type: 'done'
  round: number
  /** Loader calls made in this worker during the round. */
  loaderCalls: number
  /** From `go` received to the last caller served, in this worker (ms). */
  serveAllMs: number
  /** Median time for a caller to get its value, in this worker (ms). */
  p50Ms: number
  /** Callers that got an error instead of a value. */
  errors: number
  /** Distinct product versions the callers received (1 when everyone saw the same load). */
  versions: number[]
  /** Errors the library reported on events during the round (not to callers). */
  reportedErrors: number
  /** Wall-clock ms (`performance.timeOrigin + performance.now()`) when this worker's loader resolved; `null` when it did not load. */
  loadedAt: number | null
  /** Wall-clock ms when this worker's last caller was served. */
  lastServedAt: number
}

/** Worker to parent: the worker could not start or run. */
export interface FailedMessage {
  type: 'failed'
  message: string
}

export type WorkerMessage = ReadyMessage | DoneMessage | FailedMessage
