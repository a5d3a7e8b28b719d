import type { Clock } from '../util/clock.js'
import { type BreakerOptions, type BreakerState, CircuitBreaker } from './circuit-breaker.js'

/** The shard id of a store that names no shards (no `shardOf`): the whole store is one shard. */
export const SINGLE_SHARD = 'store'

/** What a {@link ShardBreakers} reports. */
export interface ShardBreakerEvents {
  /** One shard's breaker changed state. */
  onShardChange(shard: string, state: BreakerState, previous: BreakerState): void
  /** The store's state changed (see {@link ShardBreakers.state}). */
  onStoreChange(state: BreakerState, previous: BreakerState): void
}

/**
 * One circuit breaker per shard of a remote store (DESIGN.md §6): a dead master opens the breaker
 * of its own slots only, so the keys of healthy shards keep using L2. Breakers are made on first
 * use of a shard id, as `shardOf` names it; a store without `shardOf` has one.
 *
 * Finding a key's breaker is one `shardOf` call and one map lookup (none without `shardOf`): it
 * runs on every L2 call, the L2 hit included.
 */
export class ShardBreakers {
  private readonly breakers = new Map<string, CircuitBreaker>()
  private readonly only: CircuitBreaker | null
  private storeState: BreakerState = 'closed'

  constructor(
    private readonly shardOf: ((key: string) => string) | undefined,
    private readonly options: BreakerOptions,
    private readonly clock: Clock,
    private readonly events: ShardBreakerEvents,
  ) {
    this.only = shardOf === undefined ? this.add(SINGLE_SHARD) : null
  }

  /** Whether the store names shards (has `shardOf`). */
  get sharded(): boolean {
    return this.only === null
  }

  /** The breaker of the shard `key` lives on now. */
  of(key: string): CircuitBreaker {
    const only = this.only
    if (only !== null) return only
    const shard = (this.shardOf as (key: string) => string)(key)
    return this.breakers.get(shard) ?? this.add(shard)
  }

  /**
   * The store's state: `closed` while any shard's breaker is closed (the store is usable; a shard
   * that is down is reported per shard by {@link shards}), `open` when every shard's is open
   * (every shard seen so far: the store does not list its shards), `half-open` otherwise (none
   * closed, some probing).
   */
  get state(): BreakerState {
    return this.storeState
  }

  /** Every shard seen so far and its breaker's state. */
  shards(): Record<string, BreakerState> {
    const states: Record<string, BreakerState> = {}
    for (const [shard, breaker] of this.breakers) states[shard] = breaker.state
    return states
  }

  /**
   * The store reported a topology change of `shards`: their breakers probe at once
   * ({@link CircuitBreaker.probeNow}). A shard id seen for the first time starts closed.
   */
  probe(shards: readonly string[]): void {
    for (const shard of shards) this.breakers.get(shard)?.probeNow()
  }

  /**
   * Forgets the breakers of shards not in `current` (the shards that own slots now). A call in
   * flight on a forgotten shard still reports to its breaker, which no longer counts; a shard
   * listed again later starts with a new, closed breaker. Does nothing for a store without shards.
   */
  prune(current: readonly string[]): void {
    if (this.only !== null) return
    const live = new Set(current)
    let pruned = false
    for (const shard of [...this.breakers.keys()]) {
      if (live.has(shard)) continue
      this.breakers.delete(shard)
      pruned = true
    }
    if (pruned) this.recompute()
  }

  private add(shard: string): CircuitBreaker {
    const breaker = new CircuitBreaker(this.options, this.clock, (state, previous) => {
      this.events.onShardChange(shard, state, previous)
      this.recompute()
    })
    this.breakers.set(shard, breaker)
    // A new shard starts closed, so a store counted open (every shard seen was) is usable again.
    if (this.storeState !== 'closed') this.recompute()
    return breaker
  }

  private recompute(): void {
    let closed = false
    let halfOpen = false
    for (const breaker of this.breakers.values()) {
      if (breaker.state === 'closed') closed = true
      else if (breaker.state === 'half-open') halfOpen = true
    }
    const next: BreakerState = closed ? 'closed' : halfOpen ? 'half-open' : 'open'
    if (next === this.storeState) return
    const previous = this.storeState
    this.storeState = next
    this.events.onStoreChange(next, previous)
  }
}
