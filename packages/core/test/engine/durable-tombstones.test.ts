import { recordingLogger } from '@tiercache/testkit/helpers'
import { MemoryServer, MemoryStore } from '@tiercache/testkit/memory'
import { afterEach, describe, expect, it } from 'vitest'
import { createCache, type DeleteOutcome, KeyBuilder, ManualClock, type TierCache, type TopologyChange } from '../../src/index.js'

// A hot key's copies live on other shards than its value. An invalidation replaces each copy with
// a tombstone; a tombstone no replica confirmed is lost if its master fails over, and the promoted
// replica then serves the old copy until the copy's TTL. The engine keeps such an invalidation in
// its outbox and tombstones again after the shard's topology change, as it does for deletions.

/**
 * An in-memory store with two shards as far as hot-key copies go: copy 0 on shard `a`, copy 1 on
 * shard `b`. While `lagging` is set, tombstones on `b` are written but not confirmed.
 */
class TwoShardStore extends MemoryStore {
  lagging = true
  /** The keys of each call (the engine sends one call per shard). */
  readonly durableTombstones: string[][] = []
  readonly plainTombstones: string[][] = []
  private readonly listeners = new Set<(change: TopologyChange) => void>()

  override spreadKeys(makeKey: (n: number) => string, count: number): string[] {
    return [makeKey(0), makeKey(1)].slice(0, count)
  }

  shardOf(key: string): string {
    return key.includes(':1:') ? 'b' : 'a'
  }

  onTopologyChange(listener: (change: TopologyChange) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Reports a failover of shard `b`, as a cluster store does once it sees the promoted replica. */
  failOverB(): void {
    for (const listener of this.listeners) listener({ shards: ['b', 'b2'], reason: 'failover' })
  }

  override async tombstone(keys: readonly string[], ttlMs: number): Promise<void> {
    this.plainTombstones.push([...keys])
    await super.tombstone(keys, ttlMs)
  }

  async tombstoneDurably(keys: readonly string[], ttlMs: number): Promise<DeleteOutcome> {
    this.durableTombstones.push([...keys])
    await super.tombstone(keys, ttlMs)
    const onB = keys.filter((key) => this.shardOf(key) === 'b')
    return { unconfirmed: this.lagging ? onB.map((key) => ({ key, shard: 'b' })) : [] }
  }
}

const opened: TierCache[] = []
afterEach(async () => {
  await Promise.all(opened.splice(0).map((cache) => cache.close()))
})

function hotCache(server: MemoryServer, clock: ManualClock, durableInvalidation?: boolean) {
  const store = new TwoShardStore({ server })
  const cache = createCache({
    namespace: 'test',
    clock,
    logger: recordingLogger(),
    breaker: false,
    l2: store,
    entities: { product: { ttl: '5m', l1: false, hot: { keys: ['k'], l1Ttl: 0, replicas: 2 } } },
    ...(durableInvalidation === undefined ? {} : { durableInvalidation }),
  })
  opened.push(cache)
  return { store, products: cache.entity<string>('product') }
}

/** Waits (real time) until `check` holds: the copies are written behind the read. */
async function until(check: () => boolean): Promise<void> {
  const started = performance.now()
  while (!check()) {
    if (performance.now() - started > 5_000) throw new Error('condition not met within 5000 ms')
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}

describe('hot-key tombstones no replica confirmed (in-memory L2, two shards)', () => {
  it('are kept and written again after the shard fails over, so the copy the promoted replica brought back is not read', async () => {
    const clock = new ManualClock()
    const server = new MemoryServer({ clock })
    const { store, products } = hotCache(server, clock)
    const keys = new KeyBuilder('test', 'product')
    const copyOnB = keys.replicaKey('k', 1)
    expect(await products.get('k', async () => 'old')).toBe('old')
    await until(() => server.read(copyOnB) !== null)
    const oldCopy = server.read(copyOnB) as string

    await products.invalidate('k')
    expect(store.durableTombstones).toEqual([[keys.replicaKey('k', 0)], [copyOnB]])
    expect(store.plainTombstones).toEqual([])

    // The failover: the promoted replica never got the tombstone and holds the old copy.
    server.write(copyOnB, oldCopy, 10_000)
    store.lagging = false
    store.failOverB()
    await until(() => store.durableTombstones.length === 4)
    expect(store.durableTombstones.slice(2)).toEqual([[keys.replicaKey('k', 0)], [copyOnB]])
    expect(server.read(copyOnB)).not.toBe(oldCopy)
    expect(server.read(keys.valueKey('k'))).toBeNull()
    // Each copy is read in turn (the pick is random): none serves the old value.
    for (let i = 0; i < 20; i++) expect(await products.get('k', async () => 'new')).toBe('new')

    // Confirmed now: nothing is kept, and another topology change sends nothing again.
    store.failOverB()
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(store.durableTombstones).toHaveLength(4)
  })

  it('with durableInvalidation off, are written with the plain tombstone and not kept', async () => {
    const clock = new ManualClock()
    const server = new MemoryServer({ clock })
    const { store, products } = hotCache(server, clock, false)
    const keys = new KeyBuilder('test', 'product')
    expect(await products.get('k', async () => 'old')).toBe('old')
    await until(() => server.read(keys.replicaKey('k', 1)) !== null)
    await products.invalidate('k')
    store.failOverB()
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(store.plainTombstones).toEqual([[keys.replicaKey('k', 0)], [keys.replicaKey('k', 1)]])
    expect(store.durableTombstones).toEqual([])
  })
})
