import { ManualClock, TierCacheError } from '@tiercache/core'
import { describe, expect, it } from 'vitest'
import { describeRemoteStoreConformance, MemoryServer, memoryStore } from '../src/index.js'

// One server for the suite, so the stores it makes share keys and the bus like instances on one Redis.
const server = new MemoryServer()
describeRemoteStoreConformance('memoryStore', async () => memoryStore({ server }), { shards: 'one' })

describe('memoryStore on a manual clock', () => {
  it('expires values, locks and tombstones when the clock moves, not before', async () => {
    const clock = new ManualClock()
    const store = memoryStore({ clock })
    await store.set('v', 'x', 1_000)
    expect(await store.acquireLock('l', 't', 1_000)).toBe(true)
    await store.tombstone(['r'], 1_000)
    clock.advance(999)
    expect(await store.get('v')).toBe('x')
    expect(await store.acquireLock('l', 'u', 1_000)).toBe(false)
    expect(await store.setReplica('r', 'late', 1_000)).toBe(false)
    clock.advance(1)
    expect(await store.get('v')).toBeNull()
    expect(await store.acquireLock('l', 'u', 1_000)).toBe(true)
    expect(await store.setReplica('r', 'now', 1_000)).toBe(true)
  })

  it('keeps a raised tag stamp for the longer of its two lifetimes', async () => {
    const clock = new ManualClock()
    const store = memoryStore({ clock })
    await store.stampTags(['t'], 5, 10_000)
    await store.stampTags(['t'], 9, 1_000)
    clock.advance(5_000)
    expect(await store.getTagStamps(['t'])).toEqual([9])
    clock.advance(5_000)
    expect(await store.getTagStamps(['t'])).toEqual([0])
  })

  it('shares keys between the stores of one server and not with another server', async () => {
    const server = new MemoryServer()
    const [a, b] = [memoryStore({ server }), memoryStore({ server })]
    await a.set('k', 'shared', 60_000)
    expect(await b.get('k')).toBe('shared')
    expect(await memoryStore().get('k')).toBeNull()
  })

  it('deletes by prefix and counts what it deleted', async () => {
    const store = memoryStore()
    await Promise.all(['{a}:1', '{a}:2', '{b}:1'].map((key) => store.set(key, 'v', 60_000)))
    expect(await store.deleteByPrefix(['{a}'])).toBe(2)
    expect(store.server.keys()).toEqual(['{b}:1'])
  })

  it('runs the ready check on a probe key and leaves nothing behind', async () => {
    const store = memoryStore()
    await store.ready({ probeKey: '{ns:!ready}', channel: '{ns}!bus' })
    expect(store.server.keys()).toEqual([])
  })

  it('rejects every call with L2_UNAVAILABLE once closed', async () => {
    const store = memoryStore()
    await store.close()
    await expect(store.get('k')).rejects.toThrow(TierCacheError)
    await expect(store.ready()).rejects.toMatchObject({ code: 'L2_UNAVAILABLE' })
  })
})
