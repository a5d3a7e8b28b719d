/**
 * Per-call timeouts without a timer per call: pending calls register a deadline, and one
 * interval timer (running only while calls are pending) expires those past it. A timer per
 * L2 call would cost more than the rest of an L2 hit's bookkeeping; this costs a Set insert and
 * delete. Precision is the sweep interval (a quarter of the shortest timeout, at least 2 ms).
 *
 * Two guards against false timeouts when the event loop itself was late (a long GC or a
 * synchronous burst): calls found past their deadline are expired only after one more turn of
 * the loop (`setImmediate`), so replies already waiting on the socket are read first; and one
 * sweep reports its expirations together (`onSweep`), so a stall that expires 64 calls at once
 * counts as one failure for the circuit breaker, not 64.
 */
export class DeadlineSweeper {
  private readonly pending = new Set<PendingCall>()
  private timer: NodeJS.Timeout | null = null
  private intervalMs = Number.POSITIVE_INFINITY

  /** `onSweep(expired)` is told how many calls one sweep expired (only when some did). */
  constructor(private readonly onSweep: (expired: number) => void = () => {}) {}

  /**
   * Registers a call that must settle within `timeoutMs`; `expire` runs if it does not. The
   * caller removes the registration with {@link settle} when the call settles.
   */
  register(timeoutMs: number, expire: () => void): PendingCall | null {
    if (!Number.isFinite(timeoutMs)) return null
    const entry: PendingCall = { deadline: performance.now() + timeoutMs, expire }
    this.pending.add(entry)
    if (this.timer === null || Math.max(2, Math.floor(timeoutMs / 4)) < this.intervalMs) this.startTimer(timeoutMs)
    return entry
  }

  /** The call settled: its deadline no longer matters. */
  settle(entry: PendingCall | null): void {
    if (entry !== null) this.pending.delete(entry)
  }

  /** Stops the timer; pending calls keep their own promises. */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    this.intervalMs = Number.POSITIVE_INFINITY
  }

  private startTimer(timeoutMs: number): void {
    this.stop()
    this.intervalMs = Math.max(2, Math.floor(timeoutMs / 4))
    this.timer = setInterval(() => this.sweep(), this.intervalMs)
    this.timer.unref()
  }

  private sweep(): void {
    if (this.pending.size === 0) {
      this.stop()
      return
    }
    const now = performance.now()
    const late: PendingCall[] = []
    for (const entry of this.pending) if (entry.deadline <= now) late.push(entry)
    if (late.length === 0) return
    setImmediate(() => {
      let expired = 0
      for (const entry of late) {
        // Settled meanwhile (its reply was already waiting): not a timeout.
        if (!this.pending.delete(entry)) continue
        expired++
        entry.expire()
      }
      if (expired > 0) this.onSweep(expired)
    })
  }
}

/** A registered call. */
export interface PendingCall {
  readonly deadline: number
  readonly expire: () => void
}
