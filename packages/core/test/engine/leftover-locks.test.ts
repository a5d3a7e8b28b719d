import { recordingLogger } from '@tiercache/testkit/helpers'
import { MemoryServer, MemoryStore } from '@tiercache/testkit/memory'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createCache, KeyBuilder, ManualClock, type TierCache, type TopologyChange } from '../../src/index.js'

// Replication is asynchronous for locks too: a lock's release (or the lease write that freed it)
// that its master acknowledged but never sent to its replica is lost when that replica is
// promoted, and the new master holds a lock nobody will release. A waiter trusts a lock on a shard
// that changed topology less than `lockTtl` ago for a short while only, then releases it once.

/** An in-memory store with one shard, `a`, whose failover the test reports. */
class OneShardStore extends MemoryStore {
  private readonly listeners = new Set<(change: TopologyChange) => void>()

  shardOf(): string {
    return 'a'
  }

  onTopologyChange(listener: (change: TopologyChange) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Reports a failover of shard `a`, as a cluster store does once it sees the promoted replica. */
  failOver(): void {
    for (const listener of this.listeners) listener({ shards: ['a', 'a2'], reason: 'failover' })
  }
}

const opened: TierCache[] = []
afterEach(async () => {
  await Promise.all(opened.splice(0).map((cache) => cache.close()))
})

/** An instance on `server` with a lock of an hour (a waiter would give up after two). */
function instance(server: MemoryServer, clock: ManualClock) {
  const store = new OneShardStore({ server })
  const logger = recordingLogger()
  const cache = createCache({ namespace: 'test', clock, logger, l2: store, entities: { product: { ttl: '5m', l1: false, lockTtl: '1h' } } })
  opened.push(cache)
  return { store, logger, products: cache.entity<string>('product') }
}

describe('a lock left over from a failover', () => {
  it('is released by a waiter after a short wait when its shard changed topology less than lockTtl ago', async () => {
    const clock = new ManualClock()
    const server = new MemoryServer({ clock })
    const { store, logger, products } = instance(server, clock)
    const lockKey = new KeyBuilder('test', 'product').lockKey('1')
    // What the promoted replica holds: the lock of a load whose release it never received.
    server.write(lockKey, 'a-token-nobody-holds', 3_600_000)
    store.failOver()
    const load = vi.fn(async () => 'v')
    expect(await products.get('1', load)).toBe('v')
    expect(load).toHaveBeenCalledTimes(1)
    expect(server.read(lockKey)).toBeNull()
    expect(server.read(new KeyBuilder('test', 'product').valueKey('1'))).not.toBeNull()
    expect(logger.records.some((record) => record.msg === 'released a lock its shard may have kept from before a failover')).toBe(true)
  })

  it('is waited for as before when its shard did not change topology', async () => {
    const clock = new ManualClock()
    const server = new MemoryServer({ clock })
    const { products } = instance(server, clock)
    const lockKey = new KeyBuilder('test', 'product').lockKey('1')
    server.write(lockKey, 'a-busy-holder', 3_600_000)
    const load = vi.fn(async () => 'v')
    let settled = false
    const reading = products.get('1', load).finally(() => {
      settled = true
    })
    // Well past the 500 ms a leftover is trusted: the read still waits for the holder.
    await new Promise((resolve) => setTimeout(resolve, 1_200))
    expect(settled).toBe(false)
    expect(server.read(lockKey)).toBe('a-busy-holder')
    // The holder's value lands and frees the lock: the waiter takes it.
    await products.set('1', 'from the holder')
    server.remove(lockKey)
    expect(await reading).toBe('from the holder')
    expect(load).not.toHaveBeenCalled()
  })
})
