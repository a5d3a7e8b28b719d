import { eventually } from '@tiercache/testkit/helpers'
import { afterEach, describe, expect, it } from 'vitest'
import { closeAll, memoryFleet } from './memory-fleet.js'

afterEach(closeAll)

describe('invalidations that could not reach L2 (in-memory L2)', () => {
  it('are retried when the breaker closes, and land', async () => {
    const fleet = memoryFleet(1, { product: { ttl: '1m', l1: false } }, { breaker: { failures: 1, coolDown: '1s', probes: 1 } })
    const { store } = fleet.at(0)
    const products = fleet.at(0).entity<string>('product')
    await products.get('1', async () => 'old')
    const valueKey = fleet.keys('product').valueKey('1')
    store.faults.fail(['delete', 'tombstone', 'publish'])
    await products.invalidate('1')
    expect(fleet.server.read(valueKey)).not.toBeNull()
    store.faults.heal()
    fleet.clock.advance(1_000)
    // The next L2 call is the probe; its success closes the breaker, which retries the invalidation.
    await products.get('2', async () => 'other')
    await eventually(() => fleet.server.read(valueKey) === null)
    expect(await products.get('1', async () => 'new')).toBe('new')
  })

  it("drop the writer's own L1 copy again once the retry lands: a read between the two took the old value from L2", async () => {
    // As when the key's old master is dead (the delete fails) while reads already reach the
    // promoted replica, which still holds the old value.
    const fleet = memoryFleet(1, { product: { ttl: '1h', l1: { ttl: '1h' } } }, { breaker: false })
    const { store } = fleet.at(0)
    const products = fleet.at(0).entity<string>('product')
    await products.get('1', async () => 'old')
    const valueKey = fleet.keys('product').valueKey('1')
    store.faults.fail(['delete', 'tombstone', 'publish'])
    await products.invalidate('1')
    // L2 still holds the old value (its deletion waits in the outbox): this read takes it into L1.
    expect(await products.get('1', async () => 'new')).toBe('old')
    store.faults.heal()
    // The retry timer runs every second of real time: the wait is for the value to go, with room for a loaded machine.
    await eventually(() => fleet.server.read(valueKey) === null, 10_000)
    expect(await products.get('1', async () => 'new')).toBe('new')
  })

  it('are retried on a timer while the breaker never opened', async () => {
    const fleet = memoryFleet(1, { product: { ttl: '1m', l1: false } }, { breaker: false })
    const { store } = fleet.at(0)
    const products = fleet.at(0).entity<string>('product')
    await products.get('1', async () => 'old')
    const valueKey = fleet.keys('product').valueKey('1')
    store.faults.fail(['delete'])
    await products.invalidate('1')
    store.faults.heal()
    // The retry timer runs every second of real time: the wait is for the value to go, with room for a loaded machine.
    await eventually(() => fleet.server.read(valueKey) === null, 10_000)
  })

  it('are retried for tags when the breaker closes', async () => {
    const fleet = memoryFleet(
      1,
      { product: { ttl: '1m', l1: false, tags: () => ['category:7'] } },
      { breaker: { failures: 1, coolDown: '1s', probes: 1 } },
    )
    const { cache, store } = fleet.at(0)
    const products = fleet.at(0).entity<string>('product')
    await products.get('1', async () => 'old')
    store.faults.fail(['stampTags'])
    await cache.invalidateTag('category:7')
    const stampKey = [...fleet.server.keys()].find((key) => key.includes('category:7'))
    expect(stampKey).toBeUndefined()
    store.faults.heal()
    fleet.clock.advance(1_000)
    await products.get('2', async () => 'other')
    await eventually(() => fleet.server.keys().some((key) => key.includes('category:7')))
    expect(await products.get('1', async () => 'new')).toBe('new')
  })
})
