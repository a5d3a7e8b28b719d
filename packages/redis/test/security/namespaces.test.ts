import { type EntityOptions, KeyBuilder, type TierCache, tagStampKey } from '@tiercache/core'
import { testCluster } from '@tiercache/testkit'
import { describe, expect, it, vi } from 'vitest'
import { redisClusterStore } from '../../src/index.js'
import { eventually, fleet, rawClusterClient, uniqueNamespace } from '../engine/helpers.js'

const cluster = rawClusterClient()

/** Whether `key` is one of the keys tiercache builds for `namespace` (values, locks, replicas, tag stamps). */
function belongsTo(key: string, namespace: string): boolean {
  return key.startsWith(`{${namespace}:`) || key.startsWith(`{${namespace}!`) || key.startsWith(`${namespace}:`)
}

const never = vi.fn(async (): Promise<never> => {
  throw new Error('this loader must not run')
})

/**
 * Two applications on one cluster, two instances each. The second namespace starts with the
 * first one (`t1234abcd` and `t1234abcd-b`), the case where a prefix match would leak.
 */
async function twoApplications(entity: EntityOptions) {
  const nsA = uniqueNamespace()
  const nsB = `${nsA}-b`
  const [appA, appB] = await Promise.all([
    fleet(2, { namespace: nsA, entities: { product: entity } }),
    fleet(2, { namespace: nsB, entities: { product: entity } }),
  ])
  return {
    nsA,
    nsB,
    a: appA.caches as [TierCache, TierCache],
    b: appB.caches as [TierCache, TierCache],
    close: async () => void (await Promise.all([appA.close(), appB.close()])),
  }
}

describe('namespaces isolate applications sharing a cluster', () => {
  it('two namespaces with the same entity and ids never read each other, and every key carries its own namespace', async () => {
    const { nsA, nsB, a, b, close } = await twoApplications({ ttl: '1m', l1: false, hot: false })
    const ids = ['1', 'user{7}:cart', '{x}', 'only-in-a']
    for (const id of ids) await a[0].entity('product').set(id, `A:${id}`)
    for (const id of ids.slice(0, 3)) await b[0].entity('product').set(id, `B:${id}`)
    for (const id of ids) expect(await a[1].entity('product').get(id, never)).toBe(`A:${id}`)
    for (const id of ids.slice(0, 3)) expect(await b[1].entity('product').get(id, never)).toBe(`B:${id}`)
    // an id only the other application cached is a miss here
    const loader = vi.fn(async () => 'B loaded it')
    expect(await b[1].entity('product').get('only-in-a', loader)).toBe('B loaded it')
    expect(loader).toHaveBeenCalledTimes(1)
    // every key belongs to exactly one of the two
    const keys = await cluster.keysContaining(nsA)
    expect(keys.length).toBeGreaterThanOrEqual(8)
    for (const key of keys) expect([belongsTo(key, nsA), belongsTo(key, nsB)]).toContain(true)
    for (const key of keys) expect(belongsTo(key, nsA) && belongsTo(key, nsB)).toBe(false)
    await close()
  })

  it("invalidateTag in one namespace stamps only that namespace's tag and leaves the other's tagged entries served", async () => {
    const { nsA, nsB, a, b, close } = await twoApplications({
      ttl: '1m',
      l1: false,
      hot: false,
      tags: (_id, value) => [(value as { tag: string }).tag],
    })
    await a[0].entity('product').get('1', async () => ({ app: 'A', tag: 'sale' }))
    await b[0].entity('product').get('1', async () => ({ app: 'B', tag: 'sale' }))
    await a[0].invalidateTag('sale')
    expect(await cluster.client.exists(tagStampKey(nsA, 'sale'))).toBe(1)
    expect(await cluster.client.exists(tagStampKey(nsB, 'sale'))).toBe(0)
    // A reloads; B still serves its entry from L2, on both instances
    const reload = vi.fn(async () => ({ app: 'A2', tag: 'sale' }))
    expect(await a[1].entity('product').get('1', reload)).toEqual({ app: 'A2', tag: 'sale' })
    expect(reload).toHaveBeenCalledTimes(1)
    for (const instance of b) expect(await instance.entity('product').get('1', never)).toEqual({ app: 'B', tag: 'sale' })
    await close()
  })

  it("hot-key replicas: one namespace's reads, invalidation and tombstones never touch the other's replicas", async () => {
    const { nsA, nsB, a, b, close } = await twoApplications({ ttl: '1m', l1: false, hot: { keys: ['x'], l1Ttl: 0 } })
    const store = redisClusterStore({ nodes: testCluster().seeds() })
    await store.get('warm-up: loads the slot map')
    const replicasOf = (ns: string) => store.spreadKeys((n) => new KeyBuilder(ns, 'product').replicaKey('x', n), 8)
    const [replicasA, replicasB] = [replicasOf(nsA), replicasOf(nsB)]
    expect(replicasA.length).toBeGreaterThan(1)
    for (const key of replicasA) expect(belongsTo(key, nsA) && !belongsTo(key, nsB)).toBe(true)
    for (const key of replicasB) expect(belongsTo(key, nsB) && !belongsTo(key, nsA)).toBe(true)

    await a[0].entity('product').get('x', async () => 'A1')
    await b[0].entity('product').get('x', async () => 'B1')
    const all = [...replicasA, ...replicasB]
    await eventually(async () => (await Promise.all(all.map((key) => cluster.client.exists(key)))).every((n) => n === 1))
    const before = await Promise.all(replicasB.map((key) => cluster.client.get(key)))
    for (const value of before) expect(value).toMatch(/^tc1\|v\|.*"B1"$/)

    await a[1].entity('product').invalidate('x')
    for (const key of replicasA) expect(await cluster.client.get(key)).toBe('tc1-tombstone')
    expect(await Promise.all(replicasB.map((key) => cluster.client.get(key)))).toEqual(before)
    // many reads of both: A reloads once, B keeps serving its value from its replicas
    const reload = vi.fn(async () => 'A2')
    for (let i = 0; i < 20; i++) {
      expect(await a[0].entity('product').get('x', reload)).toBe('A2')
      expect(await b[1].entity('product').get('x', never)).toBe('B1')
    }
    expect(reload).toHaveBeenCalledTimes(1)
    // replicas A wrote after its reload are A's; B's still hold B's value
    expect(await Promise.all(replicasB.map((key) => cluster.client.get(key)))).toEqual(before)
    await store.close()
    await close()
  })

  it("one namespace's invalidations never reach the other's instances over the bus", async () => {
    const { a, b, close } = await twoApplications({ ttl: '1m', hot: false })
    await b[0].entity('product').get('1', async () => 'B')
    await a[0].entity('product').invalidate(['1', '2', '3'])
    await eventually(() => a[1].stats().product?.invalidationsReceived === 3)
    // the bus delivered A's message to A's other instance; B's instances heard nothing, and B's L1 still serves
    expect(b.map((instance) => instance.stats().product?.invalidationsReceived)).toEqual([0, 0])
    expect(await b[0].entity('product').get('1', never)).toBe('B')
    expect(b[0].stats().product?.l1Hits).toBe(1)
    await close()
  })
})
