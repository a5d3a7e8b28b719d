import { testCluster } from '@tiercache/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { keySlot, type RedisRemoteStore, redisClusterStore } from '../src/index.js'
import { clusterAdmin, commandCalls } from './admin.js'

describe('redisClusterStore on a 3-master cluster', () => {
  const admin = clusterAdmin()
  let store: RedisRemoteStore

  beforeAll(() => {
    store = redisClusterStore({ nodes: testCluster().seeds() })
  })
  afterAll(() => store.close())

  async function masterOfSlot(slot: number): Promise<number> {
    return (await testCluster().masterForSlot(slot)).port
  }

  it('getMany over 100 keys on all three masters returns input order with one MGET per slot', async () => {
    // 60 keys on their own slots and 40 sharing four hash tags: slot groups of 1 and of 10.
    const keys = [
      ...Array.from({ length: 60 }, (_, i) => `getmany:plain:${i}`),
      ...Array.from({ length: 40 }, (_, i) => `{getmany:tag${i % 4}}:${i}`),
    ]
    const written = keys.filter((_, i) => i % 3 !== 0)
    await Promise.all(written.map((key) => store.set(key, `value of ${key}`, 60_000)))

    const slots = keys.map((key) => keySlot(key))
    const ports = await admin.masterPorts()
    const slotsByMaster = new Map<number, Set<number>>(ports.map((port) => [port, new Set()]))
    for (const slot of new Set(slots)) slotsByMaster.get(await masterOfSlot(slot))?.add(slot)
    for (const port of ports) expect(slotsByMaster.get(port)?.size, `slots on master ${port}`).toBeGreaterThan(0)

    const before = await Promise.all(ports.map((port) => commandCalls(admin, port, 'mget')))
    const values = await store.getMany(keys)
    const after = await Promise.all(ports.map((port) => commandCalls(admin, port, 'mget')))

    expect(values).toEqual(keys.map((key, i) => (i % 3 !== 0 ? `value of ${key}` : null)))
    ports.forEach((port, i) => {
      expect((after[i] ?? 0) - (before[i] ?? 0), `MGETs on master ${port}`).toBe(slotsByMaster.get(port)?.size)
    })
  })

  it('computes the slot CLUSTER KEYSLOT names, and hash-tagged keys land on that master', async () => {
    const keys = [
      '{shop:product:42}',
      '{shop:product:42}:lock',
      'plain-key',
      '{}empty-tag',
      'a{b}c{d}',
      '{user1000}.following',
      'ünïcödé{ключ}',
      'no{closing',
    ]
    const [port] = await admin.masterPorts()
    for (const key of keys) {
      expect(keySlot(key), key).toBe(Number(await admin.send(port as number, ['CLUSTER', 'KEYSLOT', key])))
    }

    const valueKey = '{shop:product:42}'
    const lockKey = '{shop:product:42}:lock'
    await store.set(valueKey, 'envelope', 60_000)
    expect(await store.acquireLock(lockKey, 'token-1', 60_000)).toBe(true)
    const owner = await masterOfSlot(keySlot(valueKey))
    // Asked directly, the owning master answers (no MOVED): both keys live there.
    expect(await admin.send(owner, ['GET', valueKey])).toBe('envelope')
    expect(await admin.send(owner, ['GET', lockKey])).toBe('token-1')
  })

  it('deletes keys spread over many slots in one call', async () => {
    const keys = Array.from({ length: 30 }, (_, i) => `delete:${i}`)
    await Promise.all(keys.map((key) => store.set(key, 'x', 60_000)))
    await store.delete([...keys, 'delete:never-written'])
    expect(await store.getMany(keys)).toEqual(keys.map(() => null))
  })

  it('writes under a lease spanning value and lock in one script, and refuses once the lock is gone', async () => {
    const key = '{lease:1}'
    const lockKey = '{lease:1}:lock'
    expect(await store.acquireLock(lockKey, 'mine', 60_000)).toBe(true)
    expect(await store.setIfLeaseHeld(key, lockKey, 'not-mine', 'stale', 60_000)).toBe(false)
    expect(await store.setIfLeaseHeld(key, lockKey, 'mine', 'fresh', 60_000)).toBe(true)
    expect(await store.get(key)).toBe('fresh')
    expect(await store.get(lockKey)).toBeNull()

    expect(await store.acquireLock(lockKey, 'again', 60_000)).toBe(true)
    await store.delete([key, lockKey]) // an invalidation
    expect(await store.setIfLeaseHeld(key, lockKey, 'again', 'raced', 60_000)).toBe(false)
    expect(await store.get(key)).toBeNull()
  })

  it('keeps a tag stamp monotonic and its longest TTL', async () => {
    const tagKey = '{tags}:stamp:category:7'
    const owner = await masterOfSlot(keySlot(tagKey))
    await store.stampTags([tagKey], 2_000, 60_000)
    await store.stampTags([tagKey], 1_000, 300_000) // older stamp, longer life
    expect(await store.getTagStamps([tagKey])).toEqual([2_000])
    expect(Number(await admin.send(owner, ['PTTL', tagKey]))).toBeGreaterThan(200_000)
    await store.stampTags([tagKey], 3_000, 1_000) // newer stamp, shorter life
    expect(await store.getTagStamps([tagKey])).toEqual([3_000])
    expect(Number(await admin.send(owner, ['PTTL', tagKey]))).toBeGreaterThan(200_000)
  })

  it('reads a missing or garbage tag stamp as 0', async () => {
    await store.set('{tags}:stamp:garbage', 'not-a-number', 60_000)
    expect(await store.getTagStamps(['{tags}:stamp:never', '{tags}:stamp:garbage'])).toEqual([0, 0])
  })
})
