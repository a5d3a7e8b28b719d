import { raceTimeout } from '../util/timeouts.js'
import type { Candidate, TimedValue } from './candidate.js'
import type { EntityCore } from './entity-core.js'
import { loadFresh } from './fleet-load.js'
import { L1Entry } from './l1-store.js'
import type { Loader } from './loader-types.js'
import { shouldRefreshEarly } from './xfetch.js'

// After a failed background refresh, the next try waits 1 s, doubling up to 30 s.
const FAIL_SAFE_FIRST_BACKOFF_MS = 1_000
const FAIL_SAFE_MAX_BACKOFF_MS = 30_000

/**
 * Background refreshes of one entity: stale-while-revalidate (a stale value within grace is
 * served while it reloads), early refresh (XFetch, before expiry) and the fail-safe backoff
 * after a failed refresh. It owns that state: the refreshes running, and per id the backoff.
 */
export class Refresher {
  private readonly refreshing = new Map<string, Promise<unknown>>()
  private readonly backoff = new Map<string, { until: number; delayMs: number }>()

  constructor(private readonly core: EntityCore) {}

  /** Returns a stale value within grace at once (or after `softTimeout` if the refresh is slower) and refreshes it. */
  async serveStale(id: string, loader: Loader<unknown>, stale: TimedValue): Promise<unknown> {
    const refresh = this.start(id, loader, stale)
    if (refresh !== undefined && this.core.policy.softTimeoutMs > 0) {
      const raced = await raceTimeout(
        refresh.catch(() => stale.value),
        this.core.policy.softTimeoutMs,
      )
      if (raced.done) {
        if (raced.value !== stale.value) return raced.value
      }
    }
    this.core.counters.staleServed++
    return stale.value
  }

  /** Starts an early refresh when XFetch draws one for this read (called once `now` passed the entry's `earlyFrom`). */
  considerEarly(id: string, loader: Loader<unknown>, current: Candidate | L1Entry, now: number): void {
    if (this.refreshing.has(id)) return
    const freshUntil = current instanceof L1Entry ? current.valueFreshUntil : current.freshUntil
    if (!shouldRefreshEarly(now, freshUntil, current.loadMs, this.core.policy.beta, this.core.ctx.random)) return
    this.core.counters.earlyRefreshes++
    this.start(id, loader, current)?.catch(() => {})
  }

  /**
   * Starts a background refresh of `id` unless one runs already or a failed one is backing
   * off. With `current` at hand, a refresh that finds another instance loading gives up at once.
   */
  private start(id: string, loader: Loader<unknown>, current: TimedValue): Promise<unknown> | undefined {
    const running = this.refreshing.get(id)
    if (running !== undefined) return running
    const core = this.core
    const now = core.ctx.clock.now()
    const blocked = this.backoff.get(id)
    if (blocked !== undefined && blocked.until > now) return undefined
    const refresh = loadFresh(core, id, loader, core.stamps.current(), current).then(
      (value) => {
        this.backoff.delete(id)
        return value
      },
      (error: unknown) => {
        const delayMs = Math.min((blocked?.delayMs ?? FAIL_SAFE_FIRST_BACKOFF_MS / 2) * 2, FAIL_SAFE_MAX_BACKOFF_MS)
        this.backoff.set(id, { until: core.ctx.clock.now() + delayMs, delayMs })
        core.log.warn({ err: error, id, retryInMs: delayMs }, 'refresh failed; serving the stale value (fail-safe)')
        throw error
      },
    )
    this.refreshing.set(id, refresh)
    const done = (): void => {
      if (this.refreshing.get(id) === refresh) this.refreshing.delete(id)
    }
    refresh.then(done, done)
    return refresh
  }
}
