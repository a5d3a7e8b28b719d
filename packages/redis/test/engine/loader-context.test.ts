import { KeyBuilder, type LoaderContext, type TierCache } from '@tiercache/core'
import { testCluster } from '@tiercache/testkit'
import { describe, expect, it, vi } from 'vitest'
import { redisClusterStore } from '../../src/index.js'
import { deferred, eventually, fleet, rawClusterClient, uniqueNamespace } from './helpers.js'

const raw = rawClusterClient()

/** A loader that waits for the test, then sets `policy` (or skips) and returns `value`. */
function heldPolicyLoader<T>(value: T, decide: (ctx: LoaderContext) => void) {
  const started = deferred()
  const released = deferred()
  const loader = vi.fn(async (_id: string, ctx: LoaderContext) => {
    started.resolve()
    await released.promise
    decide(ctx)
    return value
  })
  return { loader, started: started.promise, release: () => released.resolve() }
}

describe('the loader context on a real cluster', () => {
  it("writes under the lease with the loader's ttl, and the instance waiting on the lock takes that value", async () => {
    const namespace = uniqueNamespace()
    const { caches, close } = await fleet(2, { namespace, entities: { product: { ttl: '10m', lockTtl: '1h', l1: false } } })
    const [a, b] = caches as [TierCache, TierCache]
    const keys = new KeyBuilder(namespace, 'product')
    const held = heldPolicyLoader('token', (ctx) => ctx.set({ ttl: '3s' }))
    const first = a.entity<string>('product').get('1', held.loader)
    await held.started
    expect(await raw.client.exists(keys.lockKey('1'))).toBe(1)
    const waiter = vi.fn(async () => 'not expected')
    const second = b.entity<string>('product').get('1', waiter)
    held.release()
    expect(await first).toBe('token')
    expect(await second).toBe('token')
    expect(waiter).not.toHaveBeenCalled()
    const pttl = await raw.client.pttl(keys.valueKey('1'))
    expect(pttl).toBeGreaterThan(0)
    expect(pttl).toBeLessThanOrEqual(3_000)
    expect(await raw.client.exists(keys.lockKey('1'))).toBe(0)
    await close()
  })

  it('releases the lease of a declined value at once: nothing lands in L2 and the waiting instance loads for itself', async () => {
    const namespace = uniqueNamespace()
    // A lock that lives for an hour: a waiter that got the value only after the lock expired would time the test out.
    const { caches, close } = await fleet(2, { namespace, entities: { product: { ttl: '10m', lockTtl: '1h', lockWait: '1h' } } })
    const [a, b] = caches as [TierCache, TierCache]
    const keys = new KeyBuilder(namespace, 'product')
    const held = heldPolicyLoader('error page', (ctx) => ctx.skip())
    const first = a.entity<string>('product').get('1', held.loader)
    await held.started
    const own = vi.fn(async () => 'b loaded')
    const second = b.entity<string>('product').get('1', own)
    held.release()
    expect(await first).toBe('error page')
    expect(await second).toBe('b loaded')
    expect(own).toHaveBeenCalledTimes(1)
    // b's own load cached its value; a's declined one was never written
    expect(await raw.client.get(keys.valueKey('1'))).toContain('"b loaded"')
    expect(await raw.client.exists(keys.lockKey('1'))).toBe(0)
    await close()
  })

  it("checks the loader's tags on every read: invalidateTag makes the entry a miss on every instance", async () => {
    const namespace = uniqueNamespace()
    // No tags function on the entity: the tags come from the loader alone.
    const { caches, close } = await fleet(3, { namespace, entities: { product: { ttl: '10m', l1: { ttl: '10m' } } } })
    const [a, b, c] = caches as [TierCache, TierCache, TierCache]
    let version = 1
    const load = async (id: string, ctx: LoaderContext) => {
      ctx.set({ tags: [`category:${id.startsWith('seven') ? 7 : 8}`] })
      return { id, v: version }
    }
    for (const cache of [a, b]) {
      await cache.entity('product').get('seven-1', load)
      await cache.entity('product').get('eight-1', load)
    }
    const envelope = await raw.client.get(new KeyBuilder(namespace, 'product').valueKey('seven-1'))
    expect(envelope).toContain('["category:7"]')
    version = 2
    await a.invalidateTag('category:7')
    // c never held them in L1: the old L2 entry carries the tag, and its stamp in L2 makes it a miss
    expect((await c.entity<{ v: number }>('product').get('seven-1', load))?.v).toBe(2)
    expect((await c.entity<{ v: number }>('product').get('eight-1', load))?.v).toBe(1)
    // b holds both in L1 for ten minutes: only the tag message can drop them
    await eventually(async () => (await b.entity<{ v: number }>('product').get('seven-1', load))?.v === 2)
    expect((await b.entity<{ v: number }>('product').get('eight-1', load))?.v).toBe(1)
    await close()
  })

  it("gives a hot key's replicas the loader's ttl, and writes none for a declined value", async () => {
    const namespace = uniqueNamespace()
    const { caches, close } = await fleet(1, {
      namespace,
      entities: { product: { ttl: '10m', l1: false, hot: { keys: ['short', 'default', 'declined'], l1Ttl: 0 } } },
    })
    const products = (caches[0] as TierCache).entity<string>('product')
    const keys = new KeyBuilder(namespace, 'product')
    const store = redisClusterStore({ nodes: testCluster().seeds() })
    await store.get('warm-up: loads the slot map')
    const replicasOf = (id: string) => store.spreadKeys((n) => keys.replicaKey(id, n), 8)
    const pttls = async (id: string) => Promise.all(replicasOf(id).map((key) => raw.client.pttl(key)))

    expect(
      await products.get('declined', async (_id, ctx) => {
        ctx.skip()
        return 'v'
      }),
    ).toBe('v')
    expect(
      await products.get('short', async (_id, ctx) => {
        ctx.set({ ttl: '3s' })
        return 'v'
      }),
    ).toBe('v')
    await products.get('default', async () => 'v')
    // replicas are written in the background: wait for those of the other two keys
    await eventually(async () => (await pttls('short')).every((ttl) => ttl > 0) && (await pttls('default')).every((ttl) => ttl > 0))
    // the loader's 3 s, not the replicas' own 10 s bound
    for (const ttl of await pttls('short')) expect(ttl).toBeLessThanOrEqual(3_000)
    expect(Math.max(...(await pttls('default')))).toBeGreaterThan(3_000)
    // another read of the declined key loads (and declines) again: still no replica, no value
    expect(
      await products.get('declined', async (_id, ctx) => {
        ctx.skip()
        return 'v'
      }),
    ).toBe('v')
    expect(await Promise.all(replicasOf('declined').map((key) => raw.client.exists(key)))).toEqual(replicasOf('declined').map(() => 0))
    expect(await raw.client.exists(keys.valueKey('declined'))).toBe(0)
    await store.close()
    await close()
  })

  it('applies getMany decisions per id under their leases', async () => {
    const namespace = uniqueNamespace()
    const { caches, close } = await fleet(1, { namespace, entities: { product: { ttl: '10m', lockTtl: '1h' } } })
    const products = (caches[0] as TierCache).entity<string>('product')
    const keys = new KeyBuilder(namespace, 'product')
    const values = await products.getMany(['a', 'b', 'c', 'd'], async (ids, ctx) => {
      ctx.set('a', { ttl: '3s' })
      ctx.skip('b')
      ctx.set('c', { ttl: 'later' })
      return ids.map((id) => `v-${id}`)
    })
    expect(values).toEqual(['v-a', 'v-b', 'v-c', 'v-d'])
    const a = await raw.client.pttl(keys.valueKey('a'))
    expect(a).toBeGreaterThan(0)
    expect(a).toBeLessThanOrEqual(3_000)
    expect(await raw.client.exists(keys.valueKey('b'))).toBe(0)
    expect(await raw.client.exists(keys.valueKey('c'))).toBe(0)
    expect(await raw.client.pttl(keys.valueKey('d'))).toBeGreaterThan(3_000)
    for (const id of ['a', 'b', 'c', 'd']) expect(await raw.client.exists(keys.lockKey(id))).toBe(0)
    expect(products.stats().uncacheableValues).toBe(1)
    await close()
  })
})
