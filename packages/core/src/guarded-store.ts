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
    return this.breaker.allow()
      ? this.guard(
          this.started(() => this.inner.get(key)),
          'get',
        )
      : open('get')
  }

  /** The store's `getHot`, or its `get` when it has none; guarded like `get`. */
  getHot(key: string): Promise<string | null> {
    const inner = this.inner
    return this.breaker.allow()
      ? this.guard(
          this.started(() => (inner.getHot === undefined ? inner.get(key) : inner.getHot(key))),
          'get',
        )
      : open('get')
  }

  getMany(keys: readonly string[]): Promise<(string | null)[]> {
    return this.breaker.allow()
      ? this.guard(
          this.started(() => this.inner.getMany(keys)),
          'getMany',
        )
      : open('getMany')
  }

  set(key: string, value: string, ttlMs: number): Promise<void> {
    return this.breaker.allow()
      ? this.guard(
          this.started(() => this.inner.set(key, value, ttlMs)),
          'set',
        )
      : open('set')
  }

  delete(keys: readonly string[]): Promise<void> {
    return this.breaker.allow()
      ? this.guard(
          this.started(() => this.inner.delete(keys)),
          'delete',
        )
      : open('delete')
  }

  acquireLock(lockKey: string, token: string, ttlMs: number): Promise<boolean> {
    return this.breaker.allow()
      ? this.guard(
          this.started(() => this.inner.acquireLock(lockKey, token, ttlMs)),
          'acquireLock',
        )
      : open('acquireLock')
  }

  setIfLeaseHeld(key: string, lockKey: string, token: string, value: string, ttlMs: number): Promise<boolean> {
    return this.breaker.allow()
      ? this.guard(
          this.started(() => this.inner.setIfLeaseHeld(key, lockKey, token, value, ttlMs)),
          'setIfLeaseHeld',
        )
      : open('setIfLeaseHeld')
  }

  releaseLock(lockKey: string, token: string): Promise<void> {
    return this.breaker.allow()
      ? this.guard(
          this.started(() => this.inner.releaseLock(lockKey, token)),
          'releaseLock',
        )
      : open('releaseLock')
  }

  getTagStamps(tagKeys: readonly string[]): Promise<number[]> {
    return this.breaker.allow()
      ? this.guard(
          this.started(() => this.inner.getTagStamps(tagKeys)),
          'getTagStamps',
        )
      : open('getTagStamps')
  }

  stampTags(tagKeys: readonly string[], stampMs: number, ttlMs: number): Promise<void> {
    return this.breaker.allow()
      ? this.guard(
          this.started(() => this.inner.stampTags(tagKeys, stampMs, ttlMs)),
          'stampTags',
        )
      : open('stampTags')
  }

  spreadKeys(makeKey: (n: number) => string, count: number): string[] {
    return this.inner.spreadKeys(makeKey, count)
  }

  setReplica(key: string, value: string, ttlMs: number): Promise<boolean> {
    return this.breaker.allow()
      ? this.guard(
          this.started(() => this.inner.setReplica(key, value, ttlMs)),
          'setReplica',
        )
      : open('setReplica')
  }

  tombstone(keys: readonly string[], ttlMs: number): Promise<void> {
    return this.breaker.allow()
      ? this.guard(
          this.started(() => this.inner.tombstone(keys, ttlMs)),
          'tombstone',
        )
      : open('tombstone')
  }

  publish(channel: string, message: string): Promise<void> {
    return this.breaker.allow()
      ? this.guard(
          this.started(() => this.inner.publish(channel, message)),
          'publish',
        )
      : open('publish')
  }

  /** Not guarded: a subscription is long-lived, and the bus retries it on its own. */
  subscribe(channel: string, handlers: BusHandlers): Promise<BusSubscription> {
    return this.inner.subscribe(channel, handlers)
  }

  close(): Promise<void> {
    this.sweeper.stop()
    return this.inner.close()
  }

  /** Starts a call, turning a synchronous throw into a rejection. */
  private started<T>(run: () => Promise<T>): Promise<T> {
    try {
      return run()
    } catch (error) {
      return Promise.reject(error)
    }
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
