/**
 * One pending load per key in this process: later callers join the first caller's promise.
 * The entry is removed when the load settles, or earlier by {@link SingleFlight.forget} when
 * an invalidation makes the running load's result unfit for callers that arrive after it.
 */
export class SingleFlight<V> {
  private readonly pending = new Map<string, Promise<V>>()

  /** Returns the pending load of `key`, or starts `start()` as the one load of it. */
  run(key: string, start: () => Promise<V>): Promise<V> {
    const existing = this.pending.get(key)
    if (existing !== undefined) return existing
    const promise = start()
    this.set(key, promise)
    return promise
  }

  /** The pending load of `key`, if any. */
  get(key: string): Promise<V> | undefined {
    return this.pending.get(key)
  }

  /** Registers an already started load (used by batch loads, which start many keys at once). */
  set(key: string, promise: Promise<V>): void {
    this.pending.set(key, promise)
    const clear = (): void => {
      if (this.pending.get(key) === promise) this.pending.delete(key)
    }
    promise.then(clear, clear)
  }

  /** Detaches the pending load of `key`: its current callers still get its result, new callers start afresh. */
  forget(key: string): void {
    this.pending.delete(key)
  }
}
