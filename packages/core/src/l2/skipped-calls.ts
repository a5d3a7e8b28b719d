import { TierCacheError } from '../util/errors.js'

// Every this many skipped calls (a power of two: the check is a mask), one waits for a turn of the event loop.
const SKIPS_PER_TURN = 64

/**
 * The answer to an L2 call that a breaker skips: a rejection with `L2_UNAVAILABLE`, made without
 * any I/O. A read whose L2 calls are all skipped, with a loader that does not yield either (an
 * in-process computation), completes in microtasks alone, so a loop of such reads is one
 * unbroken chain in which the process's timers, sockets and the breaker's own probes never run.
 *
 * So every 64th skipped call waits for one turn of the event loop (`setImmediate`) before it
 * rejects, and every call skipped while that turn is pending waits for the same turn: each
 * chain of skipped reads stops at its next skipped call, the loop runs its timers and I/O, then
 * they all go on. A call that reaches L2, and the L1 hit, never pay it; a skipped call pays a
 * counter increment and a mask, and one in 64 a `setImmediate`.
 */
export class SkippedCalls {
  private skips = 0
  private turn: Promise<void> | null = null

  /** Rejects with `L2_UNAVAILABLE` for `operation`, after a turn of the event loop now and then. */
  skip(operation: string): Promise<never> {
    if (this.turn === null && (++this.skips & (SKIPS_PER_TURN - 1)) !== 0) return skipped(operation)
    return this.nextTurn().then(() => skipped(operation))
  }

  private nextTurn(): Promise<void> {
    if (this.turn === null) {
      this.turn = new Promise<void>((resolve) =>
        setImmediate(() => {
          this.turn = null
          resolve()
        }),
      )
    }
    return this.turn
  }
}

function skipped(operation: string): Promise<never> {
  return Promise.reject(new TierCacheError('L2_UNAVAILABLE', `${operation} skipped: the L2 circuit breaker of its shard is open`))
}
