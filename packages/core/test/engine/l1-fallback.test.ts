import { eventually } from '@tiercache/testkit/helpers'
import { afterEach, describe, expect, it } from 'vitest'
import { closeAll, memoryFleet } from './memory-fleet.js'

afterEach(closeAll)

// L1 copies live 1 s; values 1 h: past its L1 TTL a copy's value is still fresh for a long time.
const entities = { product: { ttl: '1h', l1: { ttl: '1s' } } }
const withGrace = { product: { ttl: '10s', grace: '1h', l1: { ttl: '1s' } } }

/** Two ready instances on one in-memory server; B holds product 1 = 'v1' in L1 (read from L2). */
async function bHoldingV1(options: { entities?: typeof entities | typeof withGrace; bus?: boolean } = {}) {
  const fleet = memoryFleet(2, options.entities ?? entities, options.bus === false ? { bus: false } : {})
  await Promise.all([fleet.at(0).cache.ready(), fleet.at(1).cache.ready()])
  const [a, b] = [fleet.at(0).entity<string>('product'), fleet.at(1).entity<string>('product')]
  await a.get('1', async () => 'v1')
  expect(await b.get('1', async () => 'not loaded')).toBe('v1')
  return { fleet, a, b, store: fleet.at(1).store, logger: fleet.at(1).logger }
}

describe('an L1 copy past its L1 TTL while L2 cannot be asked', () => {
  it('is served while the bus is up: the bus would have dropped it on any invalidation', async () => {
    const { fleet, b, store } = await bHoldingV1()
    fleet.clock.advance(2_000)
    store.faults.fail(['get'])
    let loads = 0
    expect(
      await b.get('1', async () => {
        loads++
        return 'loaded'
      }),
    ).toBe('v1')
    expect(loads).toBe(0)
  })

  it('is not served once the bus was lost: it may have missed an invalidation, and its L1 TTL is the bound', async () => {
    const { fleet, a, b, store, logger } = await bHoldingV1()
    store.faults.dropBus()
    await eventually(() => logger.records.some((record) => record.msg?.startsWith('invalidation bus disconnected') === true))
    await a.invalidate('1')
    await eventually(() => store.faults.lostMessages === 1)
    // Within its L1 TTL B still answers from L1: that is the documented bound while the bus is down.
    expect(await b.get('1', async () => 'v2')).toBe('v1')
    fleet.clock.advance(2_000)
    store.faults.fail(['get'])
    expect(await b.get('1', async () => 'v2')).toBe('v2')
  })

  it('is not served stale within grace either while the bus is down', async () => {
    const { fleet, a, b, store, logger } = await bHoldingV1({ entities: withGrace })
    store.faults.dropBus()
    await eventually(() => logger.records.some((record) => record.msg?.startsWith('invalidation bus disconnected') === true))
    await a.invalidate('1')
    await eventually(() => store.faults.lostMessages === 1)
    // Past the value's TTL, within grace: a stale copy that missed the invalidation.
    fleet.clock.advance(20_000)
    store.faults.fail(['get'])
    expect(await b.get('1', async () => 'v2')).toBe('v2')
  })

  it("is not served while the bus channel's shard fails: a subscription there may be deaf, and writers' messages wait", async () => {
    // The in-memory store is one shard: L2 failing is the bus' shard failing. Five failed calls
    // open its breaker (the default threshold) while the subscription still looks up.
    const { fleet, b, store } = await bHoldingV1()
    fleet.clock.advance(2_000)
    store.faults.fail()
    for (let i = 0; i < 5; i++) await b.get(`other-${i}`, async () => 'x')
    expect(fleet.at(1).cache.breakerState()).toBe('open')
    expect(await b.get('1', async () => 'v2')).toBe('v2')
  })

  it('is not served without a bus (bus: false): nothing would have dropped it', async () => {
    const { fleet, b, store } = await bHoldingV1({ bus: false })
    fleet.clock.advance(2_000)
    store.faults.fail(['get'])
    expect(await b.get('1', async () => 'v2')).toBe('v2')
  })

  it('is served again for copies taken after the bus came back', async () => {
    const { fleet, b, store, logger } = await bHoldingV1()
    store.faults.dropBus()
    await eventually(() => logger.records.some((record) => record.msg?.startsWith('invalidation bus disconnected') === true))
    store.faults.restoreBus()
    await eventually(() => logger.records.some((record) => record.msg?.startsWith('invalidation bus reconnected') === true))
    // The reconnection dropped B's L1; this read takes a new copy from L2.
    expect(await b.get('1', async () => 'not loaded')).toBe('v1')
    fleet.clock.advance(2_000)
    store.faults.fail(['get'])
    expect(await b.get('1', async () => 'not loaded')).toBe('v1')
  })
})
