import { randomUUID } from 'node:crypto'
import {
  describeDurableDeletes,
  describeShardChannelFailover,
  eventually,
  expectBusFollowsMovedSlot,
  expectShardIsItsMaster,
  keyInSlots,
  moveSlotElsewhere,
  openedStores,
  type SlotRange,
  shardKillFixture,
  testCluster,
  testStandalone,
  topologyChanges,
} from '@tiercache/testkit'
import { readersAcrossShards } from '@tiercache/testkit/helpers'
import { afterAll, describe, expect, it } from 'vitest'
import { nodeRedisClusterStore, nodeRedisStore } from '../src/index.js'

const opened = openedStores(() => nodeRedisClusterStore({ nodes: testCluster().seeds(), deploymentCheck: false }))
const clusterStore = opened.open
const keyIn = (range: SlotRange) => keyInSlots(range, 'nrk')

afterAll(async () => {
  await testCluster().ensureHealthy()
})

describe('shards at the RemoteStore boundary (node-redis)', () => {
  it('names the master that owns a key slot as its shard', async () => {
    const s = clusterStore()
    for (const key of [keyIn([0, 5_000]), keyIn([5_500, 10_000]), keyIn([11_000, 16_383])])
      await expectShardIsItsMaster(testCluster(), s, key)
  })

  it('is one shard named primary on a standalone server', async () => {
    const s = nodeRedisStore({ host: testStandalone().host, port: testStandalone().port, deploymentCheck: false })
    opened.track(s)
    await s.set('{nr-one}:a', 'v', 60_000)
    expect(s.shardOf('{nr-one}:a')).toBe('primary')
    expect(s.shardOf('{nr-one}:b')).toBe('primary')
    expect(typeof s.onTopologyChange(() => {})).toBe('function')
  })

  it('reports a slot move with the source and the target master, and shardOf follows the slot although no command was redirected', async () => {
    const cluster = testCluster()
    const s = clusterStore()
    const key = keyIn([100, 100])
    await s.set(key, 'v', 60_000)
    const seen = topologyChanges(s)
    const { source, target } = await moveSlotElsewhere(cluster, 100, opened.restore)
    // node-redis alone would learn of the move only from a MOVED; the store sends no command meanwhile.
    await eventually(() => seen.length > 0, 10_000)
    const masters = (await cluster.masters()).map((m) => `127.0.0.1:${m.port}`).sort()
    expect(seen[0]).toEqual({ shards: [`127.0.0.1:${source}`, `127.0.0.1:${target}`].sort(), reason: 'slots', current: masters })
    expect(s.shardOf(key)).toBe(`127.0.0.1:${target}`)
    expect(await s.get(key)).toBe('v')
  })

  it('moves a sharded bus subscription with its slot, telling the subscriber the loss was a move', async () => {
    await expectBusFollowsMovedSlot(testCluster(), clusterStore(), 300, opened.restore)
  })
})

describe('one shard down is one shard down (node-redis)', () => {
  it('a killed master costs the reads of its own slots only: healthy shards keep their L2 hits, only its breaker opens, L2 hits resume after the promotion', async () => {
    const cluster = testCluster()
    const namespace = `t${randomUUID().slice(0, 8)}`
    const store = nodeRedisClusterStore({ nodes: cluster.seeds(), deploymentCheck: false })
    const topology = topologyChanges(store)
    const { cache, products, keys, victim, victimShard, ids, onVictim, storeStates, shardStates } = await shardKillFixture(
      cluster,
      store,
      namespace,
      150,
    )
    expect(onVictim.size).toBeGreaterThan(0)
    expect(onVictim.size).toBeLessThan(ids.length)

    const readers = await readersAcrossShards(products, ids, onVictim, 16)
    const { counts } = readers
    try {
      // Every value is in L2 (loaded above); count from here, and kill once reads flow.
      readers.startCounting()
      await eventually(() => counts.victimReads > 50, 10_000)
      await cluster.kill(victim.port)
      const promoted = await cluster.waitForFailover(victim.port, { timeoutMs: 30_000 })
      const promotedShard = `127.0.0.1:${promoted.port}`
      const promotedAt = performance.now()
      const healthyShare = counts.healthyLoads / Math.max(1, counts.healthyReads)
      // The store saw the failover and routes the dead shard's keys to the promoted replica.
      await eventually(() => topology.some((change) => change.shards.includes(victimShard)), 10_000)
      const failover = topology.find((change) => change.shards.includes(victimShard))
      expect(failover?.shards).toContain(promotedShard)
      expect(failover?.current).toContain(promotedShard)
      expect(failover?.current).not.toContain(victimShard)
      // L2 hits resume for the dead shard's keys: a stretch of its reads without a load.
      const readsAtPromotion = counts.victimReads
      await eventually(() => performance.now() - counts.lastVictimLoad > 500 && counts.victimReads > readsAtPromotion + 100, 20_000)
      console.info(
        `[node-redis shard kill] healthy-shard reads ${counts.healthyReads}, loads ${counts.healthyLoads} (${(healthyShare * 100).toFixed(2)}%), ` +
          `dead-shard loads ${counts.victimLoads}, last dead-shard load ${Math.round(counts.lastVictimLoad - promotedAt)} ms after the promotion, errors ${counts.errors}`,
      )
      expect(counts.errors).toBe(0)
      expect(healthyShare).toBeLessThanOrEqual(0.05)
      // Only the dead shard's breaker opened; L2 as a whole never counted as down.
      expect(shardStates).toContainEqual(expect.objectContaining({ shard: victimShard, state: 'open' }))
      expect(shardStates.filter((event) => event.state === 'open' && event.shard !== victimShard)).toEqual([])
      expect(storeStates).not.toContain('open')
      expect(cache.breakerState()).toBe('closed')
      // The dead master left the slot map: its breaker is forgotten.
      await eventually(() => !(victimShard in cache.breakerShards()), 20_000)
      expect(store.shardOf(keys.valueKey('0'))).toBe(promotedShard)
    } finally {
      await readers.stop()
      await cache.close()
      await cluster.ensureHealthy({ timeoutMs: 60_000 })
    }
  }, 120_000)
})

describeDurableDeletes('durable deletes (WAIT for a replica, node-redis)', (replicaAckTimeoutMs) =>
  opened.track(nodeRedisClusterStore({ nodes: testCluster().seeds(), deploymentCheck: false, replicaAckTimeoutMs })),
)

describe('durable deletes on a standalone server (node-redis)', () => {
  it('confirms a durable delete on a server without replicas at once: there is nothing a failover could promote', async () => {
    const s = opened.track(nodeRedisStore({ host: testStandalone().host, port: testStandalone().port, deploymentCheck: false }))
    await s.set('{nr-one}:d', 'v', 60_000)
    expect(await s.deleteDurably(['{nr-one}:d', '{nr-one}:d:lease'])).toEqual({ unconfirmed: [] })
    expect(await s.get('{nr-one}:d')).toBeNull()
  })
})

describeShardChannelFailover('shard channels (node-redis)', () =>
  opened.track(nodeRedisClusterStore({ nodes: testCluster().seeds(), deploymentCheck: false, bus: 'spublish' })),
)
