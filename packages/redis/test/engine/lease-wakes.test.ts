import { type CacheOptions, createCache, KeyBuilder, type RemoteStore, type TierCache } from '@tiercache/core'
import { deferred, eventually, TEST_L2_TIMEOUT, testCluster } from '@tiercache/testkit'
import { faultyStore } from '@tiercache/testkit/memory'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { redisClusterStore } from '../../src/index.js'
import { rawClusterClient, uniqueNamespace } from './helpers.js'

// Waiters for another instance's load are woken when its lease ends (docs/decisions/0002).
// lockPoll of an hour: a waiter that was not woken would poll again only after the test's timeout,
// so a test here that passes was served by the wake-up, not by polling. lockTtl of an hour: nor
// could it have taken over a lock that expired.
const WOKEN_ONLY = { ttl: '1m', lockTtl: '1h', lockPoll: '1h' } as const

const raw = rawClusterClient()
const opened: TierCache[] = []

afterEach(async () => {
  await Promise.all(opened.splice(0).map((cache) => cache.close()))
})

/** A cache instance with its own store and connections, as another service instance would have. */
async function instance(
  namespace: string,
  entity: CacheOptions['entities'][string],
  l2: RemoteStore = redisClusterStore({ nodes: testCluster().seeds() }),
) {
  const cache = createCache({ namespace, l2Timeout: TEST_L2_TIMEOUT, l2, entities: { product: entity } })
  opened.push(cache)
  await cache.ready()
  return cache
}

/** How many connections subscribe to the wake channel of `id`'s lock, over every master (sharded and classic). */
async function wakeSubscribers(namespace: string, id: string): Promise<number> {
  const channel = `{${namespace}}!wake:${new KeyBuilder(namespace, 'product').lockKey(id)}`
  const counts = await Promise.all(
    raw.client.nodes('master').map(async (node) => {
      const sharded = (await node.call('PUBSUB', 'SHARDNUMSUB', channel)) as [string, number]
      const classic = (await node.call('PUBSUB', 'NUMSUB', channel)) as [string, number]
      return Number(sharded[1]) + Number(classic[1])
    }),
  )
  return counts.reduce((sum, n) => sum + n, 0)
}

/** Instance `holder` loads id 1 with a loader the test holds; `waiters` ask for it meanwhile and wait. */
async function waitingFor(holder: TierCache, waiters: TierCache[]) {
  const load = deferred<string>()
  const holding = holder.entity<string>('product').get('1', () => load.promise)
  const own = vi.fn(async () => 'loaded by a waiter')
  // The holder's lock must be taken before the waiters ask, or one of them would load.
  await eventually(async () => (await raw.client.exists(new KeyBuilder(holder.namespace, 'product').lockKey('1'))) === 1)
  const waiting = waiters.map((cache) => cache.entity<string>('product').get('1', own))
  await eventually(() => waiters.every((cache) => cache.entity('product').stats().lockWaits === 1))
  return { load, holding, own, waiting }
}

describe('waiters woken when the lease ends (real cluster, one store per instance)', () => {
  it("serves the holder's value to waiters of other instances as soon as it lands, without polling for it", async () => {
    const namespace = uniqueNamespace()
    const [a, b, c] = [await instance(namespace, WOKEN_ONLY), await instance(namespace, WOKEN_ONLY), await instance(namespace, WOKEN_ONLY)]
    const { load, holding, own, waiting } = await waitingFor(a, [b, c])
    // Both waiters listen on the lock's wake channel before the value lands.
    await eventually(async () => (await wakeSubscribers(namespace, '1')) === 2)
    load.resolve('loaded by a')
    expect(await Promise.all([holding, ...waiting])).toEqual(['loaded by a', 'loaded by a', 'loaded by a'])
    expect(own).not.toHaveBeenCalled()
    for (const cache of [b, c]) expect(cache.entity('product').stats()).toMatchObject({ loads: 0, lockWaits: 1, l2Errors: 0 })
    // A served waiter leaves the channel: subscriptions do not pile up with the keys waited for.
    await eventually(async () => (await wakeSubscribers(namespace, '1')) === 0)
  })

  it('wakes a waiter to load itself as soon as a failed holder releases the lock', async () => {
    const namespace = uniqueNamespace()
    const [a, b] = [await instance(namespace, WOKEN_ONLY), await instance(namespace, WOKEN_ONLY)]
    const { load, holding, own, waiting } = await waitingFor(a, [b])
    await eventually(async () => (await wakeSubscribers(namespace, '1')) === 1)
    load.reject(new Error('db down'))
    await expect(holding).rejects.toThrow('db down')
    expect(await waiting[0]).toBe('loaded by a waiter')
    expect(own).toHaveBeenCalledTimes(1)
    // b loaded under the lock it took, so its value is in L2 for everyone.
    expect(await raw.client.exists(new KeyBuilder(namespace, 'product').valueKey('1'))).toBe(1)
  })

  it("still serves waiters by polling when the holder's wake-up is lost", async () => {
    const namespace = uniqueNamespace()
    // The holder's publishes fail: its wake-up never leaves it. The waiter polls every 100 ms (the default).
    const lossy = faultyStore(redisClusterStore({ nodes: testCluster().seeds() }))
    const polling = { ttl: '1m', lockTtl: '1h' } as const
    const a = await instance(namespace, polling, lossy)
    const b = await instance(namespace, polling)
    const { load, holding, own, waiting } = await waitingFor(a, [b])
    await eventually(async () => (await wakeSubscribers(namespace, '1')) === 1)
    lossy.faults.fail(['publish'])
    load.resolve('loaded by a')
    expect(await Promise.all([holding, ...waiting])).toEqual(['loaded by a', 'loaded by a'])
    expect(lossy.faults.calls('publish')).toBeGreaterThan(0)
    expect(own).not.toHaveBeenCalled()
    // A lost wake-up is no L2 failure of the holder: it counts nothing and opens no breaker, even
    // when every load's wake-up fails (more of them than the 5 failures that open a breaker).
    for (let i = 2; i <= 12; i++) await a.entity<string>('product').get(String(i), async () => `v${i}`)
    expect(lossy.faults.calls('publish')).toBeGreaterThan(10)
    expect(a.entity('product').stats()).toMatchObject({ loads: 12, l2Errors: 0 })
    expect(Object.values(a.breakerShards()).every((state) => state === 'closed')).toBe(true)
  })

  it('serves waiters by polling when the bus is off (no wake-ups at all)', async () => {
    const namespace = uniqueNamespace()
    const make = async () => {
      const cache = createCache({
        namespace,
        bus: false,
        l2Timeout: TEST_L2_TIMEOUT,
        l2: redisClusterStore({ nodes: testCluster().seeds() }),
        entities: { product: { ttl: '1m', lockTtl: '1h' } },
      })
      opened.push(cache)
      await cache.ready()
      return cache
    }
    const [a, b] = [await make(), await make()]
    const { load, holding, own, waiting } = await waitingFor(a, [b])
    expect(await wakeSubscribers(namespace, '1')).toBe(0)
    load.resolve('loaded by a')
    expect(await Promise.all([holding, ...waiting])).toEqual(['loaded by a', 'loaded by a'])
    expect(own).not.toHaveBeenCalled()
  })
})
