/**
 * Per-call timeouts without a timer per call: pending calls register a deadline, and one
 * interval timer (running only while calls are pending) rejects those past it. A timer per
 * L2 call would cost more than the rest of an L2 hit's bookkeeping; this costs a Set insert and
 * delete. Precision is the sweep interval (a quarter of the shortest timeout, at least 2 ms).
 */
export class DeadlineSweeper {
  private readonly pending = new Set<Pending>()
  private timer: NodeJS.Timeout | null = null
  private intervalMs = Number.POSITIVE_INFINITY

  /** Resolves or rejects like `promise`, or rejects with `onTimeout()` once `timeoutMs` passed. */
  run<T>(promise: Promise<T>, timeoutMs: number, onTimeout: () => Error): Promise<T> {
    if (!Number.isFinite(timeoutMs)) return promise
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = { deadline: performance.now() + timeoutMs, reject: () => reject(onTimeout()) }
      this.pending.add(entry)
      this.ensureTimer(timeoutMs)
      promise.then(
        (value) => {
          this.pending.delete(entry)
          resolve(value)
        },
        (error: unknown) => {
          this.pending.delete(entry)
          reject(error)
        },
      )
    })
  }

  /** Stops the timer; pending calls keep their own promises. */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    this.intervalMs = Number.POSITIVE_INFINITY
  }

  private ensureTimer(timeoutMs: number): void {
    const wanted = Math.max(2, Math.floor(timeoutMs / 4))
    if (this.timer !== null && wanted >= this.intervalMs) return
    this.stop()
    this.intervalMs = wanted
    this.timer = setInterval(() => this.sweep(), wanted)
    this.timer.unref()
  }

  private sweep(): void {
    if (this.pending.size === 0) {
      this.stop()
      return
    }
    const now = performance.now()
    for (const entry of this.pending) {
      if (entry.deadline <= now) {
        this.pending.delete(entry)
        entry.reject()
      }
    }
  }
}

interface Pending {
  deadline: number
  reject: () => void
}
