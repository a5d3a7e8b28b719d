import { randomUUID } from 'node:crypto'
import { type BreakerEvent, createCache, KeyBuilder, type ShardBreakerEvent, type TopologyChange } from '@tiercache/core'
import { eventually, keySlot, type SlotRange, testCluster, testStandalone } from '@tiercache/testkit'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { type NodeRedisRemoteStore, nodeRedisClusterStore, nodeRedisStore } from '../src/index.js'

const stores: NodeRedisRemoteStore[] = []
const restore: (() => Promise<unknown>)[] = []

function clusterStore(): NodeRedisRemoteStore {
  const created = nodeRedisClusterStore({ nodes: testCluster().seeds(), deploymentCheck: false })
  stores.push(created)
  return created
}

afterEach(async () => {
  while (restore.length > 0) await restore.pop()?.()
  await Promise.all(stores.splice(0).map((s) => s.close()))
})

afterAll(async () => {
  await testCluster().ensureHealthy()
})

/** The first `{prefix<n>}:v` whose slot lies in `range`. */
function keyIn(range: SlotRange, prefix = 'nrk'): string {
  for (let n = 0; ; n++) {
    const key = `{${prefix}${n}}:v`
    const slot = keySlot(key)
    if (slot >= range[0] && slot <= range[1]) return key
  }
}

function changes(s: NodeRedisRemoteStore): TopologyChange[] {
  const seen: TopologyChange[] = []
  s.onTopologyChange((change) => seen.push(change))
  return seen
}

describe('shards at the RemoteStore boundary (node-redis)', () => {
  it('names the master that owns a key slot as its shard', async () => {
    const s = clusterStore()
    for (const key of [keyIn([0, 5_000]), keyIn([5_500, 10_000]), keyIn([11_000, 16_383])]) {
      await s.set(key, 'v', 60_000)
      const master = await testCluster().masterForKey(key)
      expect(s.shardOf(key)).toBe(`127.0.0.1:${master.port}`)
    }
  })

  it('is one shard named primary on a standalone server', async () => {
    const s = nodeRedisStore({ host: testStandalone().host, port: testStandalone().port, deploymentCheck: false })
    stores.push(s)
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
    const seen = changes(s)
    const source = (await cluster.masterForSlot(100)).port
    const target = (await cluster.masters()).find((m) => m.port !== source)?.port as number
    restore.push(() => cluster.moveSlots([[100, 100]], source))
    await cluster.moveSlots([[100, 100]], target)
    // node-redis alone would learn of the move only from a MOVED; the store sends no command meanwhile.
    await eventually(() => seen.length > 0, 10_000)
    const masters = (await cluster.masters()).map((m) => `127.0.0.1:${m.port}`).sort()
    expect(seen[0]).toEqual({ shards: [`127.0.0.1:${source}`, `127.0.0.1:${target}`].sort(), reason: 'slots', current: masters })
    expect(s.shardOf(key)).toBe(`127.0.0.1:${target}`)
    expect(await s.get(key)).toBe('v')
  })
})

describe('one shard down is one shard down (node-redis)', () => {
  it('a killed master costs the reads of its own slots only: healthy shards keep their L2 hits, only its breaker opens, L2 hits resume after the promotion', async () => {
    const cluster = testCluster()
    const namespace = `t${randomUUID().slice(0, 8)}`
    const store = nodeRedisClusterStore({ nodes: cluster.seeds(), deploymentCheck: false })
    const topology = changes(store)
    const cache = createCache({
      namespace,
      l2: store,
      // Generous for a loaded 2-core machine: a healthy shard must not time out for want of CPU.
      l2Timeout: '250ms',
      entities: { product: { ttl: '5m', l1: false, hot: false } },
    })
    await cache.ready()
    const products = cache.entity<string>('product')
    const keys = new KeyBuilder(namespace, 'product')
    const victim = await cluster.masterForKey(keys.valueKey('0'))
    const victimShard = `127.0.0.1:${victim.port}`
    const ids = Array.from({ length: 150 }, (_, i) => String(i))
    const onVictim = new Set(ids.filter((id) => store.shardOf(keys.valueKey(id)) === victimShard))
    expect(onVictim.size).toBeGreaterThan(0)
    expect(onVictim.size).toBeLessThan(ids.length)
    const storeStates: string[] = []
    const shardStates: ShardBreakerEvent[] = []
    cache.on('breaker', (event: BreakerEvent) => storeStates.push(event.state))
    cache.on('shard-breaker', (event: ShardBreakerEvent) => shardStates.push(event))

    const counts = { healthyReads: 0, healthyLoads: 0, victimLoads: 0, victimReads: 0, errors: 0, lastVictimLoad: 0 }
    let counting = false
    const loader = async (id: string) => {
      // Yields like a database query.
      await new Promise((resolve) => setImmediate(resolve))
      if (!counting) return `v${id}`
      if (onVictim.has(id)) {
        counts.victimLoads++
        counts.lastVictimLoad = performance.now()
      } else counts.healthyLoads++
      return `v${id}`
    }
    for (const id of ids) await products.get(id, loader)
    let stopped = false
    const readers = Array.from({ length: 16 }, async (_, r) => {
      for (let i = r; !stopped; i += 16) {
        const id = ids[i % ids.length] as string
        try {
          expect(await products.get(id, loader)).toBe(`v${id}`)
        } catch {
          counts.errors++
        }
        if (!counting) continue
        if (onVictim.has(id)) counts.victimReads++
        else counts.healthyReads++
      }
    })
    try {
      // Every value is in L2 (loaded above); count from here, and kill once reads flow.
      counting = true
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
      stopped = true
      await Promise.all(readers)
      await cache.close()
      await cluster.ensureHealthy({ timeoutMs: 60_000 })
    }
  }, 120_000)
})
