import { type L2TraceContext, l2Tracing } from '../metrics/tracing.js'
import type { Clock } from '../util/clock.js'
import { TierCacheError } from '../util/errors.js'
import { bestEffortCall } from './best-effort-call.js'
import type { BreakerOptions, BreakerState, CircuitBreaker } from './circuit-breaker.js'
import { DeadlineSweeper } from './deadline-sweeper.js'
import type { BusHandlers, BusSubscription, DeleteOutcome, RemoteStore, TopologyChange } from './remote-store.js'
import { type ShardBreakerEvents, ShardBreakers, SINGLE_SHARD } from './shard-breakers.js'
import { ShardChanges } from './shard-changes.js'
import { answered, positionsByBreaker, type ShardPart, scatter, settled } from './shard-parts.js'
import { SkippedCalls } from './skipped-calls.js'

/** What the guards of one store (one per per-call timeout) share: breakers, the sweeper, the connection. */
interface GuardShared {
  readonly breakers: ShardBreakers
  readonly sweeper: DeadlineSweeper
  /** The breakers of the calls the running sweep expired: each fails once per sweep. */
  readonly expired: Set<CircuitBreaker>
  readonly skipped: SkippedCalls
  readonly topologyListeners: Set<(change: TopologyChange) => void>
  /** When each shard was last seen in a topology change. */
  readonly changes: ShardChanges
  stopWatching: () => void
  /** Whether the store has answered once (see `guard`). */
  established: boolean
  /** The cache's namespace, for traced calls. */
  readonly namespace: string
  /** Best-effort calls on their way (`notify`, `releaseLateLock`): `close()` lets them go out first. */
  readonly inFlight: Set<Promise<boolean>>
}

/**
 * The user's remote store behind a per-call timeout and a circuit breaker per shard. Every L2 call
 * of the engine goes through it, so a slow or dead Redis node costs callers at most the timeout,
 * and while its shard's breaker is open it costs nothing at all; the other shards are not
 * touched (a call on several keys is split by shard, each part under its own breaker). Failures
 * surface as rejections the engine turns into misses (reads) or logged, counted, retried
 * failures (writes).
 *
 * `withTimeout(ms)` gives an entity its own timeout over the same breakers and connections.
 * Each call costs one promise of its own, one `shardOf` and one map lookup: this sits on the L2
 * hit path.
 */
export class GuardedStore implements RemoteStore {
  readonly name: string

  private constructor(
    readonly inner: RemoteStore,
    private readonly shared: GuardShared,
    private readonly timeoutMs: number,
  ) {
    this.name = inner.name
  }

  /** Creates the guard of a store: its breakers (one per shard), one sweeper, and the topology watch. */
  static create(
    inner: RemoteStore,
    options: BreakerOptions & ShardBreakerEvents & { timeoutMs: number; clock: Clock; namespace: string },
  ): GuardedStore {
    return new GuardedStore(inner, guardShared(inner, options), options.timeoutMs)
  }

  /** The same store with another per-call timeout (ms). */
  withTimeout(timeoutMs: number): GuardedStore {
    return timeoutMs === this.timeoutMs ? this : new GuardedStore(this.inner, this.shared, timeoutMs)
  }

  /** The store's state: `open` only when every shard's breaker is (see {@link ShardBreakers.state}). */
  get breakerState(): BreakerState {
    return this.shared.breakers.state
  }

  /** Each shard seen so far and the state of its breaker. */
  shardStates(): Record<string, BreakerState> {
    return this.shared.breakers.shards()
  }

  /** The state of the breaker of the shard `key` lives on now. */
  breakerStateOf(key: string): BreakerState {
    return this.shared.breakers.of(key).state
  }

  /** The shard of `key` as the store names it (`store` when it names none). */
  shardOf(key: string): string {
    return this.inner.shardOf?.(key) ?? SINGLE_SHARD
  }

  /** Whether the store confirms deletions on a replica (`deleteDurably`). */
  get durableDeletes(): boolean {
    return this.inner.deleteDurably !== undefined
  }

  /** Calls `listener` after each topology change the store reports (after the changed shards' breakers were told). */
  /** Whether the shard `key` lives on now was in a topology change less than `ms` ago (real time). */
  shardChangedWithin(key: string, ms: number): boolean {
    return this.shared.changes.changedWithin(this.shardOf(key), ms)
  }

  onTopologyChange(listener: (change: TopologyChange) => void): () => void {
    this.shared.topologyListeners.add(listener)
    return () => this.shared.topologyListeners.delete(listener)
  }

  get(key: string): Promise<string | null> {
    return this.call('get', key, () => this.inner.get(key))
  }

  /** The store's `getHot`, or its `get` when it has none; guarded like `get`. */
  getHot(key: string): Promise<string | null> {
    const inner = this.inner
    return this.call('get', key, () => (inner.getHot === undefined ? inner.get(key) : inner.getHot(key)))
  }

  async getMany(keys: readonly string[]): Promise<(string | null)[]> {
    const { values, error } = await this.getManySettled(keys)
    if (error !== undefined) throw error
    return values as (string | null)[]
  }

  /**
   * `getMany`, shard by shard: the keys of a shard that failed (or whose breaker is open) read as
   * `undefined`, and `error` holds the first such failure; the other shards' keys are answered.
   */
  async getManySettled(keys: readonly string[]): Promise<{ values: (string | null | undefined)[]; error: unknown }> {
    const parts = await this.perShard('getMany', keys, (subset) => this.inner.getMany(subset))
    const values = new Array<string | null | undefined>(keys.length)
    return { values, error: scatter(parts, values, null).error }
  }

  set(key: string, value: string, ttlMs: number): Promise<void> {
    return this.call('set', key, () => this.inner.set(key, value, ttlMs))
  }

  delete(keys: readonly string[]): Promise<void> {
    return this.allShards('delete', keys, (subset) => this.inner.delete(subset))
  }

  /**
   * The store's `deleteDurably` (its `delete` when it has none: nothing to confirm), shard by
   * shard; rejects when the deletion failed on any shard, after the others were done.
   */
  async deleteDurably(keys: readonly string[]): Promise<DeleteOutcome> {
    const inner = this.inner
    const parts = await this.perShard('delete', keys, (subset) =>
      inner.deleteDurably === undefined ? inner.delete(subset).then(() => NOTHING_UNCONFIRMED) : inner.deleteDurably(subset),
    )
    return { unconfirmed: answered(parts).flatMap((outcome) => outcome.unconfirmed) }
  }

  /**
   * The store's `acquireLock`, guarded. A lock attempt the guard gave up on (timed out, or failed
   * while the command was still on its way) can still take the lock when Redis gets to it, and
   * then nobody knows it is held: every other instance's readers would wait for it until it
   * expires (`lockTtl`). `lateHold`, when given, is called if that happens, so the caller can
   * release it: when the store's answer comes late and says held, and when the store rejects
   * (a connection that closed after sending the command loses the reply, not the command; a
   * release by token of a lock that was never taken changes nothing).
   */
  acquireLock(lockKey: string, token: string, ttlMs: number, lateHold?: () => void): Promise<boolean> {
    let started: Promise<boolean> | undefined
    const guarded = this.call('acquireLock', lockKey, () => {
      started = this.inner.acquireLock(lockKey, token, ttlMs)
      return started
    })
    if (lateHold === undefined) return guarded
    return guarded.catch((error: unknown) => {
      if (started !== undefined) whenHeldLate(started, lateHold)
      throw error
    })
  }

  setIfLeaseHeld(key: string, lockKey: string, token: string, value: string, ttlMs: number): Promise<boolean> {
    return this.call('setIfLeaseHeld', key, () => this.inner.setIfLeaseHeld(key, lockKey, token, value, ttlMs))
  }

  releaseLock(lockKey: string, token: string): Promise<void> {
    return this.call('releaseLock', lockKey, () => this.inner.releaseLock(lockKey, token))
  }

  async getTagStamps(tagKeys: readonly string[]): Promise<number[]> {
    const parts = await this.perShard('getTagStamps', tagKeys, (subset) => this.inner.getTagStamps(subset))
    const stamps = new Array<number>(tagKeys.length).fill(0)
    const { failed, error } = scatter(parts, stamps, 0)
    if (failed) throw error
    return stamps
  }

  stampTags(tagKeys: readonly string[], stampMs: number, ttlMs: number): Promise<void> {
    return this.allShards('stampTags', tagKeys, (subset) => this.inner.stampTags(subset, stampMs, ttlMs))
  }

  spreadKeys(makeKey: (n: number) => string, count: number): string[] {
    return this.inner.spreadKeys(makeKey, count)
  }

  setReplica(key: string, value: string, ttlMs: number): Promise<boolean> {
    return this.call('setReplica', key, () => this.inner.setReplica(key, value, ttlMs))
  }

  tombstone(keys: readonly string[], ttlMs: number): Promise<void> {
    return this.allShards('tombstone', keys, (subset) => this.inner.tombstone(subset, ttlMs))
  }

  /**
   * The store's `tombstoneDurably` (its `tombstone` when it has none: nothing to confirm), shard
   * by shard; rejects when the tombstones failed on any shard, after the others were done.
   */
  async tombstoneDurably(keys: readonly string[], ttlMs: number): Promise<DeleteOutcome> {
    const inner = this.inner
    const parts = await this.perShard('tombstone', keys, (subset) =>
      inner.tombstoneDurably === undefined
        ? inner.tombstone(subset, ttlMs).then(() => NOTHING_UNCONFIRMED)
        : inner.tombstoneDurably(subset, ttlMs),
    )
    return { unconfirmed: answered(parts).flatMap((outcome) => outcome.unconfirmed) }
  }

  publish(channel: string, message: string): Promise<void> {
    return this.call('publish', channel, () => this.inner.publish(channel, message))
  }

  /**
   * A publish whose loss costs little (a waiter's wake-up, which polling backs up): sent only
   * while the channel's shard breaker is closed, given up at the per-call timeout, and never
   * counted against the breaker, so a channel the ACL does not grant (a fleet that kept an older
   * rights list) cannot open the breaker of the shard that also serves reads. Resolves `true` when
   * the store took it; never rejects.
   */
  notify(channel: string, message: string): Promise<boolean> {
    if (this.shared.breakers.of(channel).state !== 'closed') return Promise.resolve(false)
    return bestEffortCall(this.shared, this.timeoutMs, () => this.inner.publish(channel, message))
  }

  /**
   * Releases a lock that an attempt the guard gave up on took after all (see `acquireLock`):
   * the lock's master has just answered, so the release is sent whatever its shard's breaker
   * says (the calls that timed out while the master was paused may hold it open for its whole
   * cool-down, and other instances' readers poll the lock all that time); given up at the
   * per-call timeout and never reported to the breaker. Resolves `true` when the store took it;
   * never rejects (the caller falls back to the guarded, retried release).
   */
  releaseLateLock(lockKey: string, token: string): Promise<boolean> {
    return bestEffortCall(this.shared, this.timeoutMs, () => this.inner.releaseLock(lockKey, token))
  }

  /** Not guarded: a subscription is long-lived, and the bus retries it on its own. */
  subscribe(channel: string, handlers: BusHandlers): Promise<BusSubscription> {
    return this.inner.subscribe(channel, handlers)
  }

  async close(): Promise<void> {
    this.shared.stopWatching()
    this.shared.topologyListeners.clear()
    // A process that closes right after its last load must still wake the instances waiting for
    // it: the wake-ups and late releases already started go out first (each bounded by the per-call timeout).
    await Promise.all(this.shared.inFlight)
    this.shared.sweeper.stop()
    return this.inner.close()
  }

  /** One guarded call on the shard of `key`. */
  private call<T>(operation: string, key: string, run: () => Promise<T>): Promise<T> {
    return this.callOn(this.shared.breakers.of(key), operation, run, key, 1)
  }

  /**
   * The one guarded call on `keyCount` keys of one shard (`firstKey` names it): traced on
   * `tiercache:l2` while someone subscribes (one getter otherwise), then {@link untracedCall}.
   */
  private callOn<T>(breaker: CircuitBreaker, operation: string, run: () => Promise<T>, firstKey: string, keyCount: number): Promise<T> {
    if (!l2Tracing.hasSubscribers) return this.untracedCall(breaker, operation, run)
    const base = { command: operation, namespace: this.shared.namespace, store: this.name, shard: this.shardOf(firstKey), count: keyCount }
    return traced(base, (context) => this.untracedCall(breaker, operation, run, context))
  }

  /**
   * The guarded call itself: skipped (`L2_UNAVAILABLE`, see {@link SkippedCalls}) while `breaker`
   * is open, else started (a synchronous throw becomes a rejection), bounded by the timeout and
   * reported to `breaker`.
   */
  private untracedCall<T>(breaker: CircuitBreaker, operation: string, run: () => Promise<T>, traced?: L2TraceContext): Promise<T> {
    if (!breaker.allow()) {
      if (traced !== undefined) traced.outcome = 'skipped'
      return this.shared.skipped.skip(operation)
    }
    let started: Promise<T>
    try {
      started = run()
    } catch (error) {
      started = Promise.reject(error)
    }
    return guard(this.shared, this.timeoutMs, started, operation, breaker)
  }

  /** A call on many keys, one guarded call per shard; resolves with every shard's outcome. */
  private perShard<T>(operation: string, keys: readonly string[], run: (subset: readonly string[]) => Promise<T>): Promise<ShardPart<T>[]> {
    const breakers = this.shared.breakers
    const settle = (breaker: CircuitBreaker, positions: readonly number[], subset: readonly string[]): Promise<ShardPart<T>> =>
      settled(
        this.callOn(breaker, operation, () => run(subset), subset[0] ?? '', subset.length),
        positions,
      )
    if (!breakers.sharded || keys.length < 2) {
      return settle(breakers.of(keys[0] ?? ''), ALL[keys.length] ?? keys.map((_, i) => i), keys).then((part) => [part])
    }
    return Promise.all(
      Array.from(positionsByBreaker(breakers, keys), ([breaker, positions]) =>
        settle(breaker, positions, positions.length === keys.length ? keys : positions.map((i) => keys[i] as string)),
      ),
    )
  }

  /** A call on many keys that resolves once every shard's part succeeded, and rejects with the first failure. */
  private async allShards(operation: string, keys: readonly string[], run: (subset: readonly string[]) => Promise<void>): Promise<void> {
    for (const part of await this.perShard(operation, keys, run)) if (!part.ok) throw part.error
  }
}

/** What the guards of one store share, made once by `GuardedStore.create`: breakers (one per shard), one sweeper, and the topology watch. */
function guardShared(inner: RemoteStore, options: BreakerOptions & ShardBreakerEvents & { clock: Clock; namespace: string }): GuardShared {
  const shardOf = inner.shardOf === undefined ? undefined : inner.shardOf.bind(inner)
  const expired = new Set<CircuitBreaker>()
  // A sweep that expires many calls of one shard at once is one failure of that shard: the event
  // loop or the network stalled once, and a breaker counts consecutive failures, not calls.
  const sweeper = new DeadlineSweeper(() => {
    for (const breaker of expired) breaker.failed()
    expired.clear()
  })
  const shared: GuardShared = {
    breakers: new ShardBreakers(shardOf, options, options.clock, options),
    sweeper,
    expired,
    skipped: new SkippedCalls(),
    topologyListeners: new Set(),
    changes: new ShardChanges(),
    stopWatching: () => {},
    established: false,
    namespace: options.namespace,
    inFlight: new Set(),
  }
  if (inner.onTopologyChange !== undefined) {
    // A changed shard is probed at once: its replica may have been promoted, or its slots moved.
    shared.stopWatching = inner.onTopologyChange((change) => {
      if (change.current !== undefined) shared.breakers.prune(change.current)
      shared.changes.changed(change.shards)
      shared.breakers.probe(change.shards)
      for (const listener of shared.topologyListeners) listener(change)
    })
  }
  return shared
}

/**
 * Runs a guarded call on `count` keys of `shard` inside the `tiercache:l2` tracing channel; the
 * call gets the context, and its outcome is written into it.
 */
function traced<T>(
  base: Pick<L2TraceContext, 'command' | 'namespace' | 'store' | 'shard' | 'count'>,
  run: (context: L2TraceContext) => Promise<T>,
): Promise<T> {
  const context: L2TraceContext = { operation: 'l2', ...base }
  return l2Tracing.tracePromise(async () => {
    try {
      const result = await run(context)
      context.outcome = 'ok'
      return result
    } catch (error) {
      context.outcome ??= 'error'
      throw error
    }
  }, context)
}

/** Calls `lateHold` if a lock attempt the guard gave up on took the lock after all. */
function whenHeldLate(attempt: Promise<boolean>, lateHold: () => void): void {
  attempt.then(
    (held) => {
      if (held) lateHold()
    },
    () => lateHold(),
  )
}

// How long calls may take before the store first answers (ms).
const CONNECT_TIMEOUT_MS = 5_000

const NOTHING_UNCONFIRMED: DeleteOutcome = Object.freeze({ unconfirmed: [] })

// The positions of a call on 0, 1 or 2 keys, shared rather than built per call.
const ALL: readonly (readonly number[])[] = [[], [0], [0, 1]]

/** Bounds a started call by the timeout and reports its outcome to its shard's breaker. */
function guard<T>(shared: GuardShared, perCallTimeoutMs: number, call: Promise<T>, operation: string, breaker: CircuitBreaker): Promise<T> {
  // Until the store has answered once, calls wait for its connection (a cluster client loads its
  // slot map first): timing them out at the per-call timeout would send a freshly started
  // fleet's first reads to the database all at once.
  const timeoutMs = shared.established ? perCallTimeoutMs : Math.max(perCallTimeoutMs, CONNECT_TIMEOUT_MS)
  return new Promise<T>((resolve, reject) => {
    const deadline = shared.sweeper.register(timeoutMs, () => {
      shared.expired.add(breaker)
      reject(new TierCacheError('L2_TIMEOUT', `${operation} took longer than ${timeoutMs} ms`))
    })
    call.then(
      (value) => {
        shared.sweeper.settle(deadline)
        shared.established = true
        breaker.succeeded()
        resolve(value)
      },
      (error: unknown) => {
        shared.sweeper.settle(deadline)
        breaker.failed()
        reject(error)
      },
    )
  })
}
