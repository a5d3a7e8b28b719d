import { deferred } from '@tiercache/testkit/helpers'
import { afterEach, describe, expect, it } from 'vitest'
import { closeAll, memoryFleet } from './memory-fleet.js'

afterEach(closeAll)

const failing = async (): Promise<string> => {
  throw new Error('db down')
}

describe('grace and fail-safe (in-memory L2)', () => {
  it('serves the stale value from L2 when the loader fails within grace', async () => {
    const fleet = memoryFleet(2, { product: { ttl: '10s', grace: '1m' } })
    await fleet
      .at(0)
      .entity<string>('product')
      .get('1', async () => 'v1')
    fleet.clock.advance(10_000)
    // Another instance, with nothing in its L1: the stale copy comes from L2.
    const other = fleet.at(1).entity<string>('product')
    expect(await other.get('1', failing)).toBe('v1')
    expect(other.stats()).toMatchObject({ staleServed: 1 })
  })

  it("throws the loader's error once grace has passed", async () => {
    const fleet = memoryFleet(1, { product: { ttl: '10s', grace: '1m' } })
    const products = fleet.at(0).entity<string>('product')
    await products.get('1', async () => 'v1')
    fleet.clock.advance(70_000)
    await expect(products.get('1', failing)).rejects.toThrow('db down')
  })
})

describe('loader timeouts (in-memory L2)', () => {
  it('returns the stale value after softTimeout and lets the load finish in the background', async () => {
    const fleet = memoryFleet(1, { product: { ttl: '10s', grace: '1m', softTimeout: 10 } })
    const products = fleet.at(0).entity<string>('product')
    await products.get('1', async () => 'v1')
    fleet.clock.advance(10_000)
    const slow = deferred<string>()
    expect(await products.get('1', () => slow.promise)).toBe('v1')
    slow.resolve('v2')
    await expect.poll(() => products.get('1', failing)).toBe('v2')
  })

  it('returns the refreshed value when it comes before softTimeout', async () => {
    const fleet = memoryFleet(1, { product: { ttl: '10s', grace: '1m', softTimeout: '1m' } })
    const products = fleet.at(0).entity<string>('product')
    await products.get('1', async () => 'v1')
    fleet.clock.advance(10_000)
    expect(await products.get('1', async () => 'v2')).toBe('v2')
  })

  it('throws LOADER_TIMEOUT after hardTimeout when there is no stale value, and frees the lock', async () => {
    const fleet = memoryFleet(1, { product: { ttl: '10s', hardTimeout: 10 } })
    const products = fleet.at(0).entity<string>('product')
    const never = deferred<string>()
    await expect(products.get('1', () => never.promise)).rejects.toMatchObject({ name: 'TierCacheError', code: 'LOADER_TIMEOUT' })
    expect(fleet.server.read(fleet.keys('product').lockKey('1'))).toBeNull()
  })

  it('answers from the loader when every L2 call hangs past l2Timeout', async () => {
    const fleet = memoryFleet(1, { product: { ttl: '10s' } }, { l2Timeout: 10 })
    const products = fleet.at(0).entity<string>('product')
    // Until L2 first answers, calls wait up to the connect timeout instead (a cluster loading its slot map).
    await products.get('0', async () => 'connected')
    fleet.at(0).store.faults.hang()
    expect(await products.get('1', async () => 'from the loader')).toBe('from the loader')
    expect(fleet.at(0).store.faults.hanging).toBeGreaterThan(0)
  })
})
