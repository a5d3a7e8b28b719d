import { type BreakerOptions, type BreakerState, CircuitBreaker } from './circuit-breaker.js'
import type { Clock } from './clock.js'
import { DeadlineSweeper } from './deadline-sweeper.js'
import { TierCacheError } from './errors.js'
import type { BusHandlers, BusSubscription, RemoteStore } from './remote-store.js'

/**
 * The user's remote store behind a per-call timeout and a circuit breaker. Every L2 call of the
 * engine goes through it, so a slow or dead Redis costs callers at most the timeout, and while
 * the breaker is open it costs nothing at all. Failures surface as rejections the engine turns
 * into misses (reads) or logged, counted, retried failures (writes).
 *
 * `withTimeout(ms)` gives an entity its own timeout over the same breaker and connections.
 */
export class GuardedStore implements RemoteStore {
  readonly name: string

  constructor(
    readonly inner: RemoteStore,
    private readonly breaker: CircuitBreaker,
    private readonly sweeper: DeadlineSweeper,
    private readonly timeoutMs: number,
  ) {
    this.name = inner.name
  }

  /** Creates the guard of a store: one breaker and one sweeper per store. */
  static create(
    inner: RemoteStore,
    options: BreakerOptions & { timeoutMs: number; clock: Clock; onStateChange: (s: BreakerState, p: BreakerState) => void },
  ): GuardedStore {
    return new GuardedStore(
      inner,
      new CircuitBreaker(options, options.clock, options.onStateChange),
      new DeadlineSweeper(),
      options.timeoutMs,
    )
  }

  /** The same store with another per-call timeout (ms). */
  withTimeout(timeoutMs: number): GuardedStore {
    return timeoutMs === this.timeoutMs ? this : new GuardedStore(this.inner, this.breaker, this.sweeper, timeoutMs)
  }

  get breakerState(): BreakerState {
    return this.breaker.state
  }

  get(key: string): Promise<string | null> {
    return this.call('get', () => this.inner.get(key))
  }

  /** The store's `getHot`, or its `get` when it has none; guarded like `get`. */
  getHot(key: string): Promise<string | null> {
    const inner = this.inner
    return this.call('get', () => (inner.getHot === undefined ? inner.get(key) : inner.getHot(key)))
  }

  getMany(keys: readonly string[]): Promise<(string | null)[]> {
    return this.call('getMany', () => this.inner.getMany(keys))
  }

  set(key: string, value: string, ttlMs: number): Promise<void> {
    return this.call('set', () => this.inner.set(key, value, ttlMs))
  }

  delete(keys: readonly string[]): Promise<void> {
    return this.call('delete', () => this.inner.delete(keys))
  }

  acquireLock(lockKey: string, token: string, ttlMs: number): Promise<boolean> {
    return this.call('acquireLock', () => this.inner.acquireLock(lockKey, token, ttlMs))
  }

  setIfLeaseHeld(key: string, lockKey: string, token: string, value: string, ttlMs: number): Promise<boolean> {
    return this.call('setIfLeaseHeld', () => this.inner.setIfLeaseHeld(key, lockKey, token, value, ttlMs))
  }

  releaseLock(lockKey: string, token: string): Promise<void> {
    return this.call('releaseLock', () => this.inner.releaseLock(lockKey, token))
  }

  getTagStamps(tagKeys: readonly string[]): Promise<number[]> {
    return this.call('getTagStamps', () => this.inner.getTagStamps(tagKeys))
  }

  stampTags(tagKeys: readonly string[], stampMs: number, ttlMs: number): Promise<void> {
    return this.call('stampTags', () => this.inner.stampTags(tagKeys, stampMs, ttlMs))
  }

  spreadKeys(makeKey: (n: number) => string, count: number): string[] {
    return this.inner.spreadKeys(makeKey, count)
  }

  setReplica(key: string, value: string, ttlMs: number): Promise<boolean> {
    return this.call('setReplica', () => this.inner.setReplica(key, value, ttlMs))
  }

  tombstone(keys: readonly string[], ttlMs: number): Promise<void> {
    return this.call('tombstone', () => this.inner.tombstone(keys, ttlMs))
  }

  publish(channel: string, message: string): Promise<void> {
    return this.call('publish', () => this.inner.publish(channel, message))
  }

  /** Not guarded: a subscription is long-lived, and the bus retries it on its own. */
  subscribe(channel: string, handlers: BusHandlers): Promise<BusSubscription> {
    return this.inner.subscribe(channel, handlers)
  }

  close(): Promise<void> {
    this.sweeper.stop()
    return this.inner.close()
  }

  private call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    if (!this.breaker.allow()) {
      return Promise.reject(new TierCacheError('L2_UNAVAILABLE', `${operation} skipped: the L2 circuit breaker is open`))
    }
    let started: Promise<T>
    try {
      started = run()
    } catch (error) {
      started = Promise.reject(error)
    }
    return this.sweeper
      .run(started, this.timeoutMs, () => new TierCacheError('L2_TIMEOUT', `${operation} took longer than ${this.timeoutMs} ms`))
      .then(
        (value) => {
          this.breaker.succeeded()
          return value
        },
        (error: unknown) => {
          this.breaker.failed()
          throw error
        },
      )
  }
}
