import { createCache, KeyBuilder, ManualClock, type TierCache } from '@tiercache/core'
import { TEST_L2_TIMEOUT, testCluster } from '@tiercache/testkit'
import { describe, expect, it, vi } from 'vitest'
import { redisClusterStore } from '../../src/index.js'
import { deferred, eventually, fleet, heldLoader, rawClusterClient, recordingLogger, uniqueNamespace } from './helpers.js'

const raw = rawClusterClient()

function three(caches: TierCache[]): [TierCache, TierCache, TierCache] {
  return caches as [TierCache, TierCache, TierCache]
}

describe('fleet-wide single-flight and leases', () => {
  it('4 instances x 50 concurrent gets of a cold key make exactly one loader call', async () => {
    const { caches, close } = await fleet(4, { namespace: uniqueNamespace(), entities: { product: { ttl: '1m' } } })
    const loader = vi.fn(async (id: string) => {
      await new Promise((resolve) => setTimeout(resolve, 100))
      return { id }
    })
    const reads = caches.flatMap((cache) => Array.from({ length: 50 }, () => cache.entity('product').get('cold', loader)))
    const values = await Promise.all(reads)
    expect(loader).toHaveBeenCalledTimes(1)
    expect(values.every((v) => JSON.stringify(v) === '{"id":"cold"}')).toBe(true)
    const waits = caches.reduce((sum, cache) => sum + (cache.stats().product?.lockWaits ?? 0), 0)
    expect(waits).toBe(3)
    await close()
  })

  it('a load that raced an invalidation never puts its old value back, in L2 or in any L1', async () => {
    const namespace = uniqueNamespace()
    const { caches, close } = await fleet(3, { namespace, entities: { product: { ttl: '1m' } } })
    const [reader, writer, other] = three(caches)
    const source = new Map([['1', 'v1']])
    const loaderStarted = deferred<void>()
    const release = deferred<void>()
    // reader misses and starts loading v1, held on a promise the test controls
    const racing = reader.entity<string>('product').get('1', async (id) => {
      const value = source.get(id) as string
      loaderStarted.resolve()
      await release.promise
      return value
    })
    await loaderStarted.promise
    const keys = new KeyBuilder(namespace, 'product')
    expect(await raw.client.exists(keys.lockKey('1'))).toBe(1)
    // writer updates the source and invalidates
    source.set('1', 'v2')
    await writer.entity('product').invalidate('1')
    expect(await raw.client.exists(keys.lockKey('1'))).toBe(0)
    // reader's load finishes with the old value
    release.resolve()
    expect(await racing).toBe('v1')
    expect(await raw.client.get(keys.valueKey('1'))).toBeNull()
    const load = async (id: string) => source.get(id) as string
    expect(await reader.entity<string>('product').get('1', load)).toBe('v2')
    expect(await writer.entity<string>('product').get('1', load)).toBe('v2')
    expect(await other.entity<string>('product').get('1', load)).toBe('v2')
    expect(reader.stats().product?.l1Hits).toBe(0)
    await close()
  })

  it('set() makes a load in flight elsewhere lose its lease', async () => {
    const namespace = uniqueNamespace()
    const { caches, close } = await fleet(2, { namespace, entities: { product: { ttl: '1m' } } })
    const [reader, writer] = caches as [TierCache, TierCache]
    const held = heldLoader('old')
    const racing = reader.entity<string>('product').get('1', held.loader)
    await held.started
    await writer.entity<string>('product').set('1', 'new')
    held.release()
    await racing
    expect(await reader.entity<string>('product').get('1', async () => 'loaded')).toBe('new')
    await close()
  })
})

describe('invalidation bus and L1 coherence', () => {
  it('after invalidate() resolves on A, B returns the new value through the bus, long before its L1 TTL, and A ignores its own message', async () => {
    const { caches, close } = await fleet(2, { namespace: uniqueNamespace(), entities: { product: { ttl: '1m', l1: { ttl: '1m' } } } })
    const [a, b] = caches as [TierCache, TierCache]
    const source = new Map([['1', 'v1']])
    const load = async (id: string) => source.get(id) as string
    expect(await a.entity<string>('product').get('1', load)).toBe('v1')
    expect(await b.entity<string>('product').get('1', load)).toBe('v1')
    expect(await b.entity<string>('product').get('1', load)).toBe('v1')
    expect(b.stats().product?.l1Hits).toBe(1)
    source.set('1', 'v2')
    await a.entity('product').invalidate('1')
    // B's L1 holds v1 for a minute: only the bus message can make it reload. The documented 100 ms
    // is measured where it can be (pnpm bench, workload 4); here, on a shared CI machine whose CPU
    // other jobs take, the margin is 5 s: still far from the 60 s a missed message would cost, and
    // free of how long a loaded machine takes to run a timer or answer a socket.
    const took = await eventually(async () => (await b.entity<string>('product').get('1', load)) === 'v2')
    expect(took).toBeLessThan(5_000)
    expect(b.stats().product?.invalidationsReceived).toBe(1)
    expect(a.stats().product?.invalidationsReceived).toBe(0)
    await close()
  })

  it('batches many ids of one invalidate call into one bus message', async () => {
    const namespace = uniqueNamespace()
    const { caches, close } = await fleet(2, { namespace, entities: { product: { ttl: '1m' } } })
    const messages: string[] = []
    // a third store subscribed to the same channel counts what goes over the wire
    const subscriber = redisClusterStore({ nodes: testCluster().seeds() })
    await subscriber.subscribe(`{${namespace}}!bus`, { onMessage: (message) => messages.push(message) })
    const ids = Array.from({ length: 100 }, (_, i) => `p${i}`)
    await caches[0]!.entity('product').invalidate(ids)
    await eventually(() => (caches[1]!.stats().product?.invalidationsReceived ?? 0) === 100)
    await eventually(() => messages.length === 1)
    expect(JSON.parse(messages[0] as string)).toMatchObject({ e: 'product', k: ids })
    await subscriber.close()
    await close()
  })

  it('while the bus is down, L1 TTL bounds staleness', async () => {
    const namespace = uniqueNamespace()
    const clock = new ManualClock()
    const seeds = testCluster().seeds()
    const a = createCache({
      namespace,
      clock,
      l2: redisClusterStore({ nodes: seeds }),
      l2Timeout: TEST_L2_TIMEOUT,
      entities: { product: { ttl: '1m', l1: { ttl: '2s' } } },
    })
    // b hears nothing: the bus is down for it
    const b = createCache({
      namespace,
      clock,
      bus: false,
      l2: redisClusterStore({ nodes: seeds }),
      l2Timeout: TEST_L2_TIMEOUT,
      entities: { product: { ttl: '1m', l1: { ttl: '2s' } } },
    })
    const source = new Map([['1', 'v1']])
    const load = async (id: string) => source.get(id) as string
    expect(await b.entity<string>('product').get('1', load)).toBe('v1')
    source.set('1', 'v2')
    await a.entity('product').invalidate('1')
    clock.advance(1_999)
    expect(await b.entity<string>('product').get('1', load)).toBe('v1')
    clock.advance(1)
    expect(await b.entity<string>('product').get('1', load)).toBe('v2')
    await Promise.all([a.close(), b.close()])
  })

  it('when the subscriber connection is killed, L1 entries are dropped once it reconnects, and it says so', async () => {
    const namespace = uniqueNamespace()
    const { caches, loggers, close } = await fleet(2, { namespace, entities: { product: { ttl: '1m', l1: { ttl: '1m' } } } })
    const [a, b] = caches as [TierCache, TierCache]
    const load = async (id: string) => `v:${id}`
    await b.entity<string>('product').get('1', load)
    await b.entity<string>('product').get('2', load)
    const cluster = testCluster()
    const nodes = [...(await cluster.masters()), ...(await cluster.replicas())]
    await Promise.all(nodes.map((node) => cluster.command(node.port, ['CLIENT', 'KILL', 'TYPE', 'pubsub'])))
    await eventually(() =>
      loggers[1]!.records.some((r) => r.msg === 'invalidation bus reconnected; dropping L1 entries that may have missed invalidations'),
    )
    const before = b.stats().product!
    expect(await b.entity<string>('product').get('2', load)).toBe('v:2')
    expect(b.stats().product?.l1Hits).toBe(before.l1Hits)
    expect(b.stats().product?.l2Hits).toBe(before.l2Hits + 1)
    // and the bus works again
    await a.entity('product').invalidate('2')
    await eventually(() => (b.stats().product?.invalidationsReceived ?? 0) === 1)
    await close()
  })
})

describe('tags', () => {
  const tagged = {
    list: { ttl: '1m', l1: { ttl: '1m' }, tags: (_id: string, value: unknown) => [`category:${(value as { c: number }).c}`] },
  }

  it('invalidateTag makes every entry carrying the tag a miss on every instance, with one stamp in L2', async () => {
    const namespace = uniqueNamespace()
    const { caches, close } = await fleet(3, { namespace, entities: tagged })
    const [a, b, c] = three(caches)
    let version = 1
    const load = async (id: string) => ({ c: id.startsWith('seven') ? 7 : 8, v: version })
    for (const cache of [a, b]) {
      await cache.entity('list').get('seven-1', load)
      await cache.entity('list').get('seven-2', load)
      await cache.entity('list').get('eight-1', load)
    }
    version = 2
    await a.invalidateTag('category:7')
    const stamp = await raw.client.get(`{${namespace}!tag:category:7}`)
    expect(Number(stamp)).toBeGreaterThan(0)
    // b's L1 holds the old entries for a minute: only the tag message can make them misses.
    await eventually(async () => ((await b.entity<{ v: number }>('list').get('seven-1', load))?.v ?? 0) === 2)
    expect((await b.entity<{ v: number }>('list').get('seven-2', load))?.v).toBe(2)
    expect((await b.entity<{ v: number }>('list').get('eight-1', load))?.v).toBe(1)
    // c never held anything in L1: the stamp in L2 makes the old entries misses
    expect((await c.entity<{ v: number }>('list').get('eight-1', load))?.v).toBe(1)
    await close()
  })

  it('an instance that starts after the tag invalidation reads the stamp from L2', async () => {
    const namespace = uniqueNamespace()
    const seeds = testCluster().seeds()
    const first = await fleet(1, { namespace, entities: tagged })
    const load = async () => ({ c: 7, v: 1 })
    await first.caches[0]!.entity('list').get('x', load)
    // bypass the first instance's bus: stamp written, then a new instance reads the old entry
    await first.caches[0]!.invalidateTag('category:7')
    const late = createCache({ namespace, l2: redisClusterStore({ nodes: seeds }), l2Timeout: TEST_L2_TIMEOUT, entities: tagged })
    const reload = vi.fn(async () => ({ c: 7, v: 2 }))
    expect(await late.entity('list').get('x', reload)).toEqual({ c: 7, v: 2 })
    expect(reload).toHaveBeenCalledTimes(1)
    await late.close()
    await first.close()
  })
})

describe('stale-while-revalidate across instances', () => {
  it('serves stale from L2 within grace while one instance refreshes, then everyone sees the new value', async () => {
    const namespace = uniqueNamespace()
    const clock = new ManualClock(Date.now())
    const seeds = testCluster().seeds()
    const make = () =>
      createCache({
        namespace,
        clock,
        logger: recordingLogger(),
        l2: redisClusterStore({ nodes: seeds }),
        l2Timeout: TEST_L2_TIMEOUT,
        entities: { product: { ttl: '10s', grace: '1m', l1: false, beta: 0 } },
      })
    const a = make()
    const b = make()
    await a.entity<string>('product').get('1', async () => 'v1')
    clock.advance(10_000)
    const gate = deferred<string>()
    const refresh = vi.fn(() => gate.promise)
    expect(await b.entity<string>('product').get('1', refresh)).toBe('v1')
    expect(await a.entity<string>('product').get('1', refresh)).toBe('v1')
    // the stale values came back at once; the one refresh reaches its loader after its lock round trip
    await eventually(() => refresh.mock.calls.length === 1)
    gate.resolve('v2')
    await eventually(async () => (await a.entity<string>('product').get('1', refresh)) === 'v2')
    expect(await b.entity<string>('product').get('1', refresh)).toBe('v2')
    expect(refresh).toHaveBeenCalledTimes(1)
    await Promise.all([a.close(), b.close()])
  })
})
