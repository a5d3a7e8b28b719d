import type { Clock } from '../util/clock.js'
import { TierCacheError } from '../util/errors.js'
import { type BreakerOptions, type BreakerState, CircuitBreaker } from './circuit-breaker.js'
import { DeadlineSweeper } from './deadline-sweeper.js'
import type { BusHandlers, BusSubscription, RemoteStore } from './remote-store.js'

/**
 * The user's remote store behind a per-call timeout and a circuit breaker. Every L2 call of the
 * engine goes through it, so a slow or dead Redis costs callers at most the timeout, and while
 * the breaker is open it costs nothing at all. Failures surface as rejections the engine turns
 * into misses (reads) or logged, counted, retried failures (writes).
 *
 * `withTimeout(ms)` gives an entity its own timeout over the same breaker and connections.
 * Each call costs one promise of its own: this sits on the L2 hit path.
 */
export class GuardedStore implements RemoteStore {
  readonly name: string

  constructor(
    readonly inner: RemoteStore,
    private readonly breaker: CircuitBreaker,
    private readonly sweeper: DeadlineSweeper,
    private readonly timeoutMs: number,
    private readonly connection: { established: boolean } = { established: false },
  ) {
    this.name = inner.name
  }

  /** Creates the guard of a store: one breaker and one sweeper per store. */
  static create(
    inner: RemoteStore,
    options: BreakerOptions & { timeoutMs: number; clock: Clock; onStateChange: (s: BreakerState, p: BreakerState) => void },
  ): GuardedStore {
    const breaker = new CircuitBreaker(options, options.clock, options.onStateChange)
    // A sweep that expires many calls at once is one failure: the event loop or the network
    // stalled once, and the breaker counts consecutive failures, not calls.
    const sweeper = new DeadlineSweeper(() => breaker.failed())
    return new GuardedStore(inner, breaker, sweeper, options.timeoutMs)
  }

  /** The same store with another per-call timeout (ms). */
  withTimeout(timeoutMs: number): GuardedStore {
    return timeoutMs === this.timeoutMs ? this : new GuardedStore(this.inner, this.breaker, this.sweeper, timeoutMs, this.connection)
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

  /**
   * The one guarded call: skipped (`L2_UNAVAILABLE`) while the breaker is open, else started
   * (a synchronous throw becomes a rejection), bounded by the timeout and reported to the
   * breaker. One promise of its own per call: this sits on the L2 hit path.
   */
  private call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    if (!this.breaker.allow()) return open(operation)
    let started: Promise<T>
    try {
      started = run()
    } catch (error) {
      started = Promise.reject(error)
    }
    return this.guard(started, operation)
  }

  /** Bounds a started call by the timeout and reports its outcome to the breaker. */
  private guard<T>(call: Promise<T>, operation: string): Promise<T> {
    // Until the store has answered once, calls wait for its connection (a cluster client loads its
    // slot map first): timing them out at the per-call timeout would send a freshly started
    // fleet's first reads to the database all at once.
    const timeoutMs = this.connection.established ? this.timeoutMs : Math.max(this.timeoutMs, CONNECT_TIMEOUT_MS)
    return new Promise<T>((resolve, reject) => {
      const deadline = this.sweeper.register(timeoutMs, () =>
        reject(new TierCacheError('L2_TIMEOUT', `${operation} took longer than ${timeoutMs} ms`)),
      )
      call.then(
        (value) => {
          this.sweeper.settle(deadline)
          this.connection.established = true
          this.breaker.succeeded()
          resolve(value)
        },
        (error: unknown) => {
          this.sweeper.settle(deadline)
          this.breaker.failed()
          reject(error)
        },
      )
    })
  }
}

// How long calls may take before the store first answers (ms).
const CONNECT_TIMEOUT_MS = 5_000

function open(operation: string): Promise<never> {
  return Promise.reject(new TierCacheError('L2_UNAVAILABLE', `${operation} skipped: the L2 circuit breaker is open`))
}
