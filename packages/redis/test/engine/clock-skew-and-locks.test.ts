import { type Clock, createCache, KeyBuilder } from '@tiercache/core'
import { TEST_L2_TIMEOUT, testCluster } from '@tiercache/testkit'
import { Cluster } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { redisClusterStore } from '../../src/index.js'
import { eventually, heldLoader, uniqueNamespace } from './helpers.js'

let raw: Cluster

beforeAll(() => {
  raw = new Cluster(testCluster().seeds())
})

afterAll(async () => {
  await raw.quit()
})

/** A wall clock shifted by `offsetMs`: an instance whose machine clock is wrong. */
function skewedClock(offsetMs: number): Clock {
  return { now: () => Date.now() + offsetMs }
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
    await eventually(async () => (await raw.exists(keys.lockKey('1'))) === 0)
    const loader = vi.fn(async () => 'new')
    expect(await b.entity<string>('product').get('1', loader)).toBe('new')
    expect(loader).toHaveBeenCalledTimes(1)
    held.release()
    expect(await slow).toBe('old')
    const stored = (await raw.get(keys.valueKey('1'))) as string
    expect(stored.endsWith('"new"')).toBe(true)
    // a's lease was gone: its L1 did not take the old value either
    expect(await a.entity<string>('product').get('1', async () => 'reloaded')).toBe('new')
    await Promise.all([a.close(), b.close()])
  })

  it('an instance whose clock runs an hour behind never serves a value past its L2 lifetime (ttl + grace, kept by Redis)', async () => {
    const namespace = uniqueNamespace()
    const seeds = testCluster().seeds()
    const writer = createCache({
      namespace,
      l2: redisClusterStore({ nodes: seeds }),
      l2Timeout: TEST_L2_TIMEOUT,
      entities: { product: { ttl: '1m', l1: false, hot: false } },
    })
    const behind = createCache({
      namespace,
      clock: skewedClock(-3_600_000),
      l2: redisClusterStore({ nodes: seeds }),
      l2Timeout: TEST_L2_TIMEOUT,
      entities: { product: { ttl: '1m', l1: false, hot: false } },
    })
    await Promise.all([writer.ready(), behind.ready()])
    await writer.entity<string>('product').get('1', async () => 'v1')
    expect(await behind.entity<string>('product').get('1', async () => 'loaded')).toBe('v1')
    // To the late clock the entry looks fresh for another hour, but Redis decides when it is gone.
    // The test ends its L2 life itself rather than with a TTL short enough to wait for: a short TTL
    // can run out between the write and the first read on a loaded machine.
    const valueKey = new KeyBuilder(namespace, 'product').valueKey('1')
    expect(await raw.pttl(valueKey)).toBeGreaterThan(0)
    await raw.pexpire(valueKey, 1)
    await eventually(async () => (await raw.exists(valueKey)) === 0)
    const loader = vi.fn(async () => 'v2')
    expect(await behind.entity<string>('product').get('1', loader)).toBe('v2')
    expect(loader).toHaveBeenCalledTimes(1)
    await Promise.all([writer.close(), behind.close()])
  })

  it('an instance whose clock runs ahead treats entries as expired early and reloads them, never serving them longer', async () => {
    const namespace = uniqueNamespace()
    const seeds = testCluster().seeds()
    const writer = createCache({
      namespace,
      l2: redisClusterStore({ nodes: seeds }),
      l2Timeout: TEST_L2_TIMEOUT,
      entities: { product: { ttl: '10s', l1: false, hot: false } },
    })
    const ahead = createCache({
      namespace,
      clock: skewedClock(60_000),
      l2: redisClusterStore({ nodes: seeds }),
      l2Timeout: TEST_L2_TIMEOUT,
      entities: { product: { ttl: '10s', l1: false, hot: false } },
    })
    await Promise.all([writer.ready(), ahead.ready()])
    await writer.entity<string>('product').get('1', async () => 'v1')
    const loader = vi.fn(async () => 'v2')
    expect(await ahead.entity<string>('product').get('1', loader)).toBe('v2')
    expect(loader).toHaveBeenCalledTimes(1)
    await Promise.all([writer.close(), ahead.close()])
  })
})
