import type { DeadlineSweeper } from './deadline-sweeper.js'

/** What a best-effort call needs of its guard: the shared sweeper, and the calls `close()` lets finish. */
export interface BestEffortContext {
  readonly sweeper: DeadlineSweeper
  /** Best-effort calls on their way: `close()` lets them go out first. */
  readonly inFlight: Set<Promise<boolean>>
}

/**
 * Runs a store call whose loss costs little and is made up for elsewhere (a waiter's wake-up,
 * which polling backs up; a late lock's release, which the outbox retries): given up at
 * `timeoutMs`, never reported to a breaker, and tracked until settled so that `close()` lets it
 * go out first. Resolves `true` when the store took it; never rejects.
 */
export function bestEffortCall(context: BestEffortContext, timeoutMs: number, send: () => Promise<unknown>): Promise<boolean> {
  const sending = new Promise<boolean>((resolve) => {
    const deadline = context.sweeper.register(timeoutMs, () => resolve(false))
    let sent: Promise<unknown>
    try {
      sent = send()
    } catch {
      sent = Promise.reject()
    }
    sent.then(
      () => {
        context.sweeper.settle(deadline)
        resolve(true)
      },
      () => {
        context.sweeper.settle(deadline)
        resolve(false)
      },
    )
  })
  context.inFlight.add(sending)
  return sending.finally(() => context.inFlight.delete(sending))
}
