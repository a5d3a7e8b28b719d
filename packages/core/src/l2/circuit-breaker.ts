import type { Clock } from '../util/clock.js'

/** `closed`: L2 is used; `open`: L2 is skipped; `half-open`: a few probe calls decide. */
export type BreakerState = 'closed' | 'open' | 'half-open'

/** Options of the L2 circuit breaker. */
export interface BreakerOptions {
  /** Consecutive failed L2 calls that open the breaker. */
  readonly failureThreshold: number
  /** How long the breaker stays open before probing L2 again (ms). */
  readonly coolDownMs: number
  /** Successful probe calls, in a row, that close it again. */
  readonly probeSuccesses: number
}

/**
 * A circuit breaker for one shard of a remote store (the whole store when it has one shard): after `failureThreshold` consecutive failures the
 * store is skipped for `coolDownMs` (reads go L1 → loader, with in-process single-flight still
 * on), then up to `probeSuccesses` calls probe it; all succeed → closed, one fails → open again.
 * Time comes from the injected clock, so tests drive it exactly.
 */
export class CircuitBreaker {
  private current: BreakerState = 'closed'
  private failures = 0
  private openedAt = 0
  private probesInFlight = 0
  private probeSuccesses = 0

  constructor(
    private readonly options: BreakerOptions,
    private readonly clock: Clock,
    private readonly onChange: (state: BreakerState, previous: BreakerState) => void,
  ) {}

  get state(): BreakerState {
    return this.current
  }

  /**
   * Whether a call may go to L2 now. In half-open, only `probeSuccesses` calls at a time are
   * let through; the caller must report the outcome with `succeeded` or `failed`.
   */
  allow(): boolean {
    if (this.current === 'closed') return true
    if (this.current === 'open') {
      if (this.clock.now() - this.openedAt < this.options.coolDownMs) return false
      // Reset before announcing it: a listener may make its own probe calls at once.
      this.probeSuccesses = 0
      this.probesInFlight = 0
      this.transition('half-open')
    }
    if (this.probesInFlight >= this.options.probeSuccesses) return false
    this.probesInFlight++
    return true
  }

  succeeded(): void {
    if (this.current === 'half-open') {
      this.probesInFlight = Math.max(0, this.probesInFlight - 1)
      if (++this.probeSuccesses >= this.options.probeSuccesses) {
        this.failures = 0
        this.transition('closed')
      }
      return
    }
    this.failures = 0
  }

  /**
   * The store reported that this shard changed (a failover, slots moved): an open breaker stops
   * cooling down and lets its probe calls through at once, so a promoted replica is used again
   * as soon as the store routes to it rather than after `coolDownMs`.
   */
  probeNow(): void {
    if (this.current === 'open') this.openedAt = Number.NEGATIVE_INFINITY
    else if (this.current === 'closed') this.failures = 0
  }

  failed(): void {
    if (this.current === 'half-open') {
      this.open()
      return
    }
    if (this.current === 'closed' && ++this.failures >= this.options.failureThreshold) this.open()
  }

  private open(): void {
    this.openedAt = this.clock.now()
    this.failures = 0
    this.transition('open')
  }

  private transition(next: BreakerState): void {
    if (next === this.current) return
    const previous = this.current
    this.current = next
    this.onChange(next, previous)
  }
}
