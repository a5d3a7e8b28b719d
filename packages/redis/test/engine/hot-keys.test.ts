import { createCache, type HotKeyEvent, KeyBuilder, ManualClock, type TierCache } from '@tiercache/core'
import { testCluster } from '@tiercache/testkit'
import { describe, expect, it, vi } from 'vitest'
import { redisClusterStore } from '../../src/index.js'
import { eventually, failureFleet, fleet, rawClusterClient, uniqueNamespace } from './helpers.js'

const raw = rawClusterClient()

/** GET calls served by each master since the last call, from `INFO commandstats`. */
async function getCallsPerMaster(): Promise<Map<number, number>> {
  const cluster = testCluster()
  const calls = new Map<number, number>()
  for (const master of await cluster.masters()) {
    const info = String(await cluster.command(master.port, ['INFO', 'commandstats']))
    const match = /cmdstat_get:calls=(\d+)/.exec(info)
    calls.set(master.port, Number(match?.[1] ?? 0))
  }
  return calls
}

async function readHotKey(caches: TierCache[], reads: number): Promise<Map<number, number>> {
  const before = await getCallsPerMaster()
  await Promise.all(
    caches.map(async (cache) => {
      const products = cache.entity<{ id: string }>('product')
      // one read at a time per instance: concurrent reads of one key would join one in-process flight
      for (let i = 0; i < reads; i++) await products.get('viral', async (id) => ({ id }))
    }),
  )
  const after = await getCallsPerMaster()
  return new Map([...after].map(([port, calls]) => [port, calls - (before.get(port) ?? 0)]))
}

function shares(calls: Map<number, number>): number[] {
  const total = [...calls.values()].reduce((a, b) => a + b, 0)
  return [...calls.values()].map((c) => c / total)
}

describe('hot keys on a real cluster', () => {
  it('without replication one master serves every read of a hot key; with it no master serves more than 1/3 + 15%', async () => {
    const single = await fleet(3, {
      namespace: uniqueNamespace(),
      entities: { product: { ttl: '1m', l1: false, hot: { keys: ['viral'], l1Ttl: 0, replicas: 0 } } },
    })
    const unspread = shares(await readHotKey(single.caches, 600))
    expect(Math.max(...unspread)).toBeGreaterThan(0.99)
    await single.close()

    const spread = await fleet(3, {
      namespace: uniqueNamespace(),
      entities: { product: { ttl: '1m', l1: false, hot: { keys: ['viral'], l1Ttl: 0 } } },
    })
    const calls = await readHotKey(spread.caches, 600)
    const total = [...calls.values()].reduce((a, b) => a + b, 0)
    expect(total).toBeGreaterThanOrEqual(1_800)
    expect(Math.max(...shares(calls))).toBeLessThanOrEqual(1 / 3 + 0.15)
    await spread.close()
  })

  it('detects a hot key from its reads, reports it, promotes it into L1 even for an entity without L1, and cools it down', async () => {
    const clock = new ManualClock()
    const cache = createCache({
      namespace: uniqueNamespace(),
      clock,
      l2: redisClusterStore({ nodes: testCluster().seeds() }),
      entities: { product: { ttl: '1m', l1: false, hot: { threshold: { rate: 100 }, window: '1s', l1Ttl: '1s', sampleEvery: 1 } } },
    })
    const events: HotKeyEvent[] = []
    cache.on('hot-key', (e) => events.push(e))
    cache.on('cold-key', (e) => events.push(e))
    const products = cache.entity<string>('product')
    const loader = vi.fn(async () => 'v')
    // 200 reads of one key and a few of others within one second: 200 reads/s > 100
    for (let i = 0; i < 200; i++) {
      await products.get('viral', loader)
      await products.get(`cold-${i % 50}`, loader)
      clock.advance(2)
    }
    clock.advance(600)
    await products.get('viral', loader)
    expect(cache.hotKeys().map((k) => [k.entity, k.id])).toEqual([['product', 'viral']])
    expect(events.map((e) => [e.entity, e.id])).toEqual([['product', 'viral']])
    expect(events[0]?.rate).toBeGreaterThanOrEqual(100)
    // promoted: the next reads are L1 hits, although the entity has no L1
    await products.get('viral', loader)
    const l1Before = cache.stats().product?.l1Hits ?? 0
    await products.get('viral', loader)
    expect(cache.stats().product?.l1Hits).toBe(l1Before + 1)
    // no reads for two windows: it cools down
    clock.advance(2_500)
    await products.get('other', loader)
    clock.advance(600)
    await products.get('other', loader)
    expect(cache.hotKeys()).toEqual([])
    expect(events.map((e) => e.id)).toEqual(['viral', 'viral'])
    await cache.close()
  })

  it('invalidation tombstones every replica, so a replica write that lands after it fails, and no instance serves the old value', async () => {
    const namespace = uniqueNamespace()
    const { caches, close } = await fleet(2, {
      namespace,
      entities: { product: { ttl: '1m', l1: false, hot: { keys: ['viral'], l1Ttl: 0 } } },
    })
    const [a, b] = caches as [TierCache, TierCache]
    let version = 1
    const load = async () => ({ v: version })
    expect(await a.entity('product').get('viral', load)).toEqual({ v: 1 })
    const keys = new KeyBuilder(namespace, 'product')
    const store = redisClusterStore({ nodes: testCluster().seeds() })
    await store.get('warm-up: loads the slot map')
    const replicaKeys = store.spreadKeys((n) => keys.replicaKey('viral', n), 8)
    expect(replicaKeys).toHaveLength(3)
    await eventually(async () => (await Promise.all(replicaKeys.map((k) => raw.client.exists(k)))).every((n) => n === 1))
    const oldEnvelope = (await raw.client.get(replicaKeys[0] as string)) as string
    expect(oldEnvelope.startsWith('tc1|v|')).toBe(true)

    version = 2
    await b.entity('product').invalidate('viral')
    // a replica write that was on its way when the key was invalidated
    expect(await store.setReplica(replicaKeys[0] as string, oldEnvelope, 60_000)).toBe(false)
    for (const key of replicaKeys) expect(await raw.client.get(key)).toBe('tc1-tombstone')
    for (let i = 0; i < 20; i++) {
      expect(await a.entity('product').get('viral', load)).toEqual({ v: 2 })
      expect(await b.entity('product').get('viral', load)).toEqual({ v: 2 })
    }
    await store.close()
    await close()
  })

  it('keeps serving a hot key through the failover of a master that holds a replica, and rebuilds the replica set', async () => {
    const { cluster, namespace, caches, close } = await failureFleet(1, {
      entities: { product: { ttl: '1m', l1: false, hot: { keys: ['viral'], l1Ttl: 0 } } },
    })
    const products = caches[0]!.entity<{ id: string }>('product')
    const load = async (id: string) => ({ id })
    await products.get('viral', load)
    const keys = new KeyBuilder(namespace, 'product')
    const primaryMaster = (await cluster.masterForKey(keys.valueKey('viral'))).port
    const store = redisClusterStore({ nodes: cluster.seeds() })
    await store.get('warm')
    const replicaKeys = store.spreadKeys((n) => keys.replicaKey('viral', n), 8)
    const victim = (await Promise.all(replicaKeys.map(async (key) => (await cluster.masterForKey(key)).port))).find(
      (port) => port !== primaryMaster,
    ) as number
    await cluster.kill(victim)
    let errors = 0
    let readsDuringFailover = 0
    let readsAfter = 0
    let promotedYet = false
    // Reads go on through the failover and for 100 reads after it, however long a loaded machine
    // takes for either (a fixed reading window could end before the promotion).
    const reading = (async () => {
      while (!promotedYet || readsAfter < 100) {
        const during = !promotedYet
        try {
          expect(await products.get('viral', load)).toEqual({ id: 'viral' })
        } catch {
          errors++
        }
        if (during) readsDuringFailover++
        else readsAfter++
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
    })()
    const promoted = await cluster.waitForFailover(victim, { timeoutMs: 20_000 })
    promotedYet = true
    await reading
    expect(errors).toBe(0)
    expect(readsDuringFailover).toBeGreaterThan(0)
    // the replica on the failed master's slots lives on the promoted master again
    const rebuilt = store.spreadKeys((n) => keys.replicaKey('viral', n), 8)
    const owners = await Promise.all(rebuilt.map(async (key) => (await cluster.masterForKey(key)).port))
    expect(owners).toContain(promoted.port)
    await eventually(async () => {
      await products.get('viral', load)
      return (await Promise.all(rebuilt.map((k) => raw.client.exists(k)))).every((n) => n === 1)
    }, 10_000)
    await store.close()
    await close()
  }, 60_000)
})
