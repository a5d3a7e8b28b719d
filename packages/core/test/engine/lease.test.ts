import { deferred, eventually } from '@tiercache/testkit/helpers'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { closeAll, memoryFleet } from './memory-fleet.js'

afterEach(closeAll)

describe('the lease (in-memory L2)', () => {
  it('does not let a load that raced an invalidation write its old value back', async () => {
    const fleet = memoryFleet(2, { product: { ttl: '1m' } })
    const [a, b] = [fleet.at(0).entity<string>('product'), fleet.at(1).entity<string>('product')]
    const keys = fleet.keys('product')
    const slowLoad = deferred<string>()
    const reading = a.get('1', () => slowLoad.promise)
    // A holds the lock (its lease) while its loader runs.
    await eventually(() => fleet.server.read(keys.lockKey('1')) !== null)
    await b.invalidate('1')
    slowLoad.resolve('old')
    // The value goes to the caller that loaded it, but neither L2 nor A's L1 keeps it.
    expect(await reading).toBe('old')
    expect(fleet.server.read(keys.valueKey('1'))).toBeNull()
    const fresh = vi.fn(async () => 'new')
    expect(await a.get('1', fresh)).toBe('new')
    expect(fresh).toHaveBeenCalledTimes(1)
  })

  it('writes the loaded value and frees the lock in one step when nothing raced it', async () => {
    const fleet = memoryFleet(1, { product: { ttl: '1m' } })
    const keys = fleet.keys('product')
    expect(
      await fleet
        .at(0)
        .entity<string>('product')
        .get('1', async () => 'v'),
    ).toBe('v')
    expect(fleet.server.read(keys.lockKey('1'))).toBeNull()
    expect(fleet.server.read(keys.valueKey('1'))).not.toBeNull()
  })

  it('frees the lock when the loader fails, so the next load does not wait for its ttl', async () => {
    const fleet = memoryFleet(1, { product: { ttl: '1m', lockTtl: '1h' } })
    const products = fleet.at(0).entity<string>('product')
    await expect(
      products.get('1', async () => {
        throw new Error('db down')
      }),
    ).rejects.toThrow('db down')
    expect(fleet.server.read(fleet.keys('product').lockKey('1'))).toBeNull()
  })

  it('frees the lock when the value cannot be cached', async () => {
    const fleet = memoryFleet(1, { product: { ttl: '1m', maxValueBytes: 8 } })
    const products = fleet.at(0).entity<string>('product')
    expect(await products.get('1', async () => 'far more than eight bytes')).toBe('far more than eight bytes')
    expect(fleet.server.read(fleet.keys('product').lockKey('1'))).toBeNull()
    expect(fleet.server.read(fleet.keys('product').valueKey('1'))).toBeNull()
  })
})
