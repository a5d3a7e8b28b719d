import { type Clock, createCache, KeyBuilder, type TierCache } from '@tiercache/core'
import { TEST_L2_TIMEOUT, testCluster } from '@tiercache/testkit'
import { describe, expect, it, vi } from 'vitest'
import { redisClusterStore } from '../../src/index.js'
import { eventually, heldLoader, rawClusterClient, uniqueNamespace } from './helpers.js'

const raw = rawClusterClient()

/** A wall clock shifted by `offsetMs`: an instance whose machine clock is wrong. */
function skewedClock(offsetMs: number): Clock {
  return { now: () => Date.now() + offsetMs }
}

/**
 * Two ready instances on one namespace with their own connections, no L1 and no hot keys, whose
 * `product` entity lives `ttl`: a writer on the true clock and one whose clock is off by `offsetMs`.
 */
async function writerAndSkewed(namespace: string, ttl: string, offsetMs: number): Promise<[TierCache, TierCache]> {
  const instance = (clock?: Clock) =>
    createCache({
      namespace,
      ...(clock === undefined ? {} : { clock }),
      l2: redisClusterStore({ nodes: testCluster().seeds() }),
      l2Timeout: TEST_L2_TIMEOUT,
      entities: { product: { ttl, l1: false, hot: false } },
    })
  const pair: [TierCache, TierCache] = [instance(), instance(skewedClock(offsetMs))]
  await Promise.all(pair.map((cache) => cache.ready()))
  return pair
}

describe('locks that expire mid-load, and clock skew between instances', () => {
  it('a lock that expires mid-load lets another instance load, and the first load cannot write its late value', async () => {
    const namespace = uniqueNamespace()
    const seeds = testCluster().seeds()
    const make = () =>
      createCache({
        namespace,
        l2: redisClusterStore({ nodes: seeds }),
        l2Timeout: TEST_L2_TIMEOUT,
        entities: { product: { ttl: '1m', lockTtl: 200, lockWait: '5s' } },
      })
    const [a, b] = [make(), make()]
    await Promise.all([a.ready(), b.ready()])
    const keys = new KeyBuilder(namespace, 'product')
    const held = heldLoader('old')
    const slow = a.entity<string>('product').get('1', held.loader)
    await held.started
    // the lock expires by its TTL while a is still loading
    await eventually(async () => (await raw.client.exists(keys.lockKey('1'))) === 0)
    const loader = vi.fn(async () => 'new')
    expect(await b.entity<string>('product').get('1', loader)).toBe('new')
    expect(loader).toHaveBeenCalledTimes(1)
    held.release()
    expect(await slow).toBe('old')
    const stored = (await raw.client.get(keys.valueKey('1'))) as string
    expect(stored.endsWith('"new"')).toBe(true)
    // a's lease was gone: its L1 did not take the old value either
    expect(await a.entity<string>('product').get('1', async () => 'reloaded')).toBe('new')
    await Promise.all([a.close(), b.close()])
  })

  it('an instance whose clock runs an hour behind never serves a value past its L2 lifetime (ttl + grace, kept by Redis)', async () => {
    const namespace = uniqueNamespace()
    const [writer, behind] = await writerAndSkewed(namespace, '1m', -3_600_000)
    await writer.entity<string>('product').get('1', async () => 'v1')
    expect(await behind.entity<string>('product').get('1', async () => 'loaded')).toBe('v1')
    // To the late clock the entry looks fresh for another hour, but Redis decides when it is gone.
    // The test ends its L2 life itself rather than with a TTL short enough to wait for: a short TTL
    // can run out between the write and the first read on a loaded machine.
    const valueKey = new KeyBuilder(namespace, 'product').valueKey('1')
    expect(await raw.client.pttl(valueKey)).toBeGreaterThan(0)
    await raw.client.pexpire(valueKey, 1)
    await eventually(async () => (await raw.client.exists(valueKey)) === 0)
    const loader = vi.fn(async () => 'v2')
    expect(await behind.entity<string>('product').get('1', loader)).toBe('v2')
    expect(loader).toHaveBeenCalledTimes(1)
    await Promise.all([writer.close(), behind.close()])
  })

  it('an instance whose clock runs ahead treats entries as expired early and reloads them, never serving them longer', async () => {
    const namespace = uniqueNamespace()
    const [writer, ahead] = await writerAndSkewed(namespace, '10s', 60_000)
    await writer.entity<string>('product').get('1', async () => 'v1')
    const loader = vi.fn(async () => 'v2')
    expect(await ahead.entity<string>('product').get('1', loader)).toBe('v2')
    expect(loader).toHaveBeenCalledTimes(1)
    await Promise.all([writer.close(), ahead.close()])
  })
})
