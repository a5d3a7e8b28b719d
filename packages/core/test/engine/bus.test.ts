import { eventually } from '@tiercache/testkit/helpers'
import { afterEach, describe, expect, it } from 'vitest'
import { closeAll, memoryFleet } from './memory-fleet.js'

afterEach(closeAll)

// A long L1 TTL, so only the bus (or its loss) decides what an instance still serves.
const entities = { product: { ttl: '1h', l1: { ttl: '1h' } } }

/** Two ready instances on one in-memory server, both holding product 1 = 'v1' in L1 (B read it from L2). */
async function twoInstancesHoldingV1() {
  const fleet = memoryFleet(2, entities)
  await Promise.all([fleet.at(0).cache.ready(), fleet.at(1).cache.ready()])
  const [a, b] = [fleet.at(0).entity<string>('product'), fleet.at(1).entity<string>('product')]
  await a.get('1', async () => 'v1')
  expect(await b.get('1', async () => 'not loaded')).toBe('v1')
  return { a, b, store: fleet.at(1).store, logger: fleet.at(1).logger }
}

describe('the invalidation bus (in-memory L2)', () => {
  it("drops another instance's L1 entry when an id is invalidated", async () => {
    const fleet = memoryFleet(2, entities)
    await Promise.all([fleet.at(0).cache.ready(), fleet.at(1).cache.ready()])
    const [a, b] = [fleet.at(0).entity<string>('product'), fleet.at(1).entity<string>('product')]
    await a.get('1', async () => 'v1')
    expect(await b.get('1', async () => 'not loaded')).toBe('v1')
    await a.invalidate('1')
    await eventually(() => b.stats().invalidationsReceived === 1)
    expect(await b.get('1', async () => 'v2')).toBe('v2')
  })

  it('drops every L1 entry when the bus comes back after a disconnect', async () => {
    const { a, b, store, logger } = await twoInstancesHoldingV1()
    store.faults.dropBus()
    await eventually(() => logger.records.some((record) => record.msg?.startsWith('invalidation bus disconnected') === true))
    await a.invalidate('1')
    await eventually(() => store.faults.lostMessages === 1)
    // The message was lost: until the bus is back, B's L1 (bounded by its TTL) still answers.
    expect(await b.get('1', async () => 'v2')).toBe('v1')
    store.faults.restoreBus()
    await eventually(() => logger.records.some((record) => record.msg?.startsWith('invalidation bus reconnected') === true))
    expect(await b.get('1', async () => 'v2')).toBe('v2')
    const busRecords = logger.records.filter((record) => record.msg?.startsWith('invalidation bus') === true)
    expect(busRecords.map((record) => record.level)).toEqual(['warn', 'warn'])
  })

  it('treats a moved slot as routine: logs at info, not warn, and still drops every L1 entry that may have missed a message', async () => {
    const { a, b, store, logger } = await twoInstancesHoldingV1()
    store.faults.dropBus('moved')
    await eventually(() =>
      logger.records.some((record) => record.msg === "invalidation bus channel's slot moved; subscribing again on its new shard"),
    )
    await a.invalidate('1')
    await eventually(() => store.faults.lostMessages === 1)
    store.faults.restoreBus()
    await eventually(() => logger.records.some((record) => record.msg?.startsWith('invalidation bus reconnected') === true))
    expect(await b.get('1', async () => 'v2')).toBe('v2')
    const busRecords = logger.records.filter((record) => record.msg?.startsWith('invalidation bus') === true)
    expect(busRecords.map((record) => [record.level, record.msg])).toEqual([
      ['info', "invalidation bus channel's slot moved; subscribing again on its new shard"],
      ['info', 'invalidation bus reconnected; dropping L1 entries that may have missed invalidations'],
    ])
    expect(logger.records.filter((record) => record.level === 'warn' || record.level === 'error')).toEqual([])
  })
})
