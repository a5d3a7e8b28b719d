import { deferred, eventually } from '@tiercache/testkit/helpers'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { CacheOptions } from '../../src/index.js'
import { closeAll, type MemoryFleet, memoryFleet } from './memory-fleet.js'

afterEach(closeAll)

// lockTtl of an hour: a waiter that had to sit out the lock's TTL would never finish within the test's timeout.
const entities = { product: { ttl: '1m', lockTtl: '1h' } }

/**
 * Two instances where A loads id 1 and holds its load lock, its loader held by the test (`load`).
 * `prepare` runs before A starts loading.
 */
async function aHoldsTheLock(
  options: CacheOptions['entities'],
  prepare?: (fleet: MemoryFleet) => Promise<void> | void,
  extra: Partial<CacheOptions> = {},
) {
  const fleet = memoryFleet(2, options, extra)
  const [a, b] = [fleet.at(0).entity<string>('product'), fleet.at(1).entity<string>('product')]
  await prepare?.(fleet)
  const load = deferred<string>()
  const holding = a.get('1', () => load.promise)
  await eventually(() => fleet.server.read(fleet.keys('product').lockKey('1')) !== null)
  return { fleet, b, load, holding }
}

/**
 * B, waiting on A's lock, subscribes to the lock's wake channel (its second subscription, after
 * its bus); then A's load lands and both are served A's value, B without loading.
 */
async function bServedByAOnceSubscribed({ fleet, b, load, holding }: Awaited<ReturnType<typeof aHoldsTheLock>>) {
  const waiting = b.get('1', async () => 'loaded by b')
  await eventually(() => fleet.at(1).store.faults.calls('subscribe') === 2)
  load.resolve('loaded by a')
  expect(await Promise.all([holding, waiting])).toEqual(['loaded by a', 'loaded by a'])
  expect(b.stats()).toMatchObject({ loads: 0, lockWaits: 1 })
}

/** Instance A loads id 1 (its loader held by the test) and instance B, asked for it too, waits for A. */
async function waitingForA() {
  const { fleet, b, load, holding } = await aHoldsTheLock(entities)
  const own = vi.fn(async () => 'loaded by b')
  const waiting = b.get('1', own)
  await eventually(() => b.stats().lockWaits === 1)
  return { fleet, b, load, holding, own, waiting }
}

describe('waiting for another instance that holds the load lock (in-memory L2)', () => {
  it("serves the holder's value without loading", async () => {
    const { b, load, holding, own, waiting } = await waitingForA()
    load.resolve('loaded by a')
    expect(await Promise.all([holding, waiting])).toEqual(['loaded by a', 'loaded by a'])
    expect(own).not.toHaveBeenCalled()
    expect(b.stats()).toMatchObject({ loads: 0, lockWaits: 1 })
  })

  it('loads itself as soon as a failed holder releases the lock', async () => {
    const { fleet, load, holding, own, waiting } = await waitingForA()
    load.reject(new Error('db down'))
    await expect(holding).rejects.toThrow('db down')
    expect(await waiting).toBe('loaded by b')
    expect(own).toHaveBeenCalledTimes(1)
    expect(fleet.server.read(fleet.keys('product').valueKey('1'))).not.toBeNull()
  })

  it('is woken when the lease ends: with lockPoll of an hour the waiter is still served at once', async () => {
    await bServedByAOnceSubscribed(await aHoldsTheLock({ product: { ttl: '1m', lockTtl: '1h', lockPoll: '1h' } }))
  })

  it('serves a value it found after taking the lock without waiting for the release', async () => {
    // B's lock attempts take 100 ms (A's load lands during one) and its releases never answer
    // (the guard gives up after 10 s): a waiter that waited for its release would miss the test's bound.
    const holder = await aHoldsTheLock(
      { product: { ttl: '1m', lockTtl: '1h' } },
      (fleet) => {
        fleet.at(1).store.faults.delay(100, ['acquireLock']).hang(['releaseLock'])
      },
      { l2Timeout: '10s' },
    )
    const { fleet, b, load, holding } = holder
    const waiting = b.get('1', async () => 'loaded by b')
    await eventually(() => fleet.at(1).store.faults.calls('acquireLock') === 2)
    load.resolve('loaded by a')
    await holding
    const bound = new Promise((resolve) => setTimeout(() => resolve('still waiting for the release'), 2_000).unref())
    expect(await Promise.race([waiting, bound])).toBe('loaded by a')
    expect(fleet.at(1).store.faults.calls('releaseLock')).toBe(1)
    expect(b.stats()).toMatchObject({ loads: 0 })
  })

  it('falls back to polling when the wake-up subscription fails', async () => {
    const holder = await aHoldsTheLock({ product: { ttl: '1m', lockTtl: '1h' } }, async (fleet) => {
      await fleet.at(1).cache.ready()
      fleet.at(1).store.faults.fail(['subscribe'])
    })
    await bServedByAOnceSubscribed(holder)
  })

  it('serves its stale value instead of waiting when it has one', async () => {
    const fleet = memoryFleet(2, { product: { ttl: '10s', grace: '1m', lockTtl: '1h' } })
    const [a, b] = [fleet.at(0).entity<string>('product'), fleet.at(1).entity<string>('product')]
    await a.get('1', async () => 'v1')
    fleet.clock.advance(11_000)
    const load = deferred<string>()
    const refreshing = a.get('1', () => load.promise)
    expect(await refreshing).toBe('v1')
    await eventually(() => fleet.server.read(fleet.keys('product').lockKey('1')) !== null)
    expect(await b.get('1', async () => 'never')).toBe('v1')
    expect(b.stats().lockWaits).toBe(0)
    load.resolve('v2')
    await eventually(() => fleet.server.read(fleet.keys('product').lockKey('1')) === null)
  })
})
