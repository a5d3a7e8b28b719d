import { deferred, eventually, recordingLogger } from '@tiercache/testkit/helpers'
import { MemoryServer, memoryStore } from '@tiercache/testkit/memory'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createCache, KeyBuilder, ManualClock, type RemoteStore, type TierCache } from '../../src/index.js'
import { closeAll, memoryFleet } from './memory-fleet.js'

const caches: TierCache[] = []
afterEach(async () => {
  await closeAll()
  await Promise.all(caches.splice(0).map((cache) => cache.close()))
})

/**
 * One instance whose in-memory store runs every lock attempt as `acquire` says (given the real
 * attempt), with a lock ttl of an hour: a lock nobody frees would outlive the test.
 */
function withLockAttempts(acquire: (attempt: () => Promise<boolean>) => Promise<boolean>) {
  const clock = new ManualClock()
  const server = new MemoryServer({ clock })
  const inner = memoryStore({ server })
  const store: RemoteStore = Object.assign(Object.create(inner) as RemoteStore, {
    acquireLock: (lockKey: string, token: string, ttlMs: number) => acquire(() => inner.acquireLock(lockKey, token, ttlMs)),
  })
  const cache = createCache({
    namespace: 'test',
    clock,
    l2: store,
    logger: recordingLogger(),
    entities: { product: { ttl: '1m', lockTtl: '1h' } },
  })
  caches.push(cache)
  return { server, products: cache.entity<string>('product'), keys: new KeyBuilder('test', 'product') }
}

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

  it('takes a lock whose attempt reached the store twice (a client resending after its connection closed) as its own', async () => {
    // The second delivery finds the lock the first one took, with this load's token.
    const { server, products, keys } = withLockAttempts(async (attempt) => {
      await attempt()
      return attempt()
    })
    const load = vi.fn(async () => 'v')
    // Read as 'busy', the read would wait for its own lock (lockWait: 2 h) and never return here.
    expect(await products.get('1', load)).toBe('v')
    expect(load).toHaveBeenCalledTimes(1)
    expect(server.read(keys.lockKey('1'))).toBeNull()
    expect(server.read(keys.valueKey('1'))).not.toBeNull()
  })

  it('releases a lock whose attempt took it but whose reply was lost (the connection closed)', async () => {
    const { server, products, keys } = withLockAttempts(async (attempt) => {
      await attempt()
      throw new Error('Connection is closed.')
    })
    // The read loads without the lock (L2 failed) and must not leave the lock behind for an hour.
    expect(await products.get('1', async () => 'v')).toBe('v')
    await eventually(() => server.read(keys.lockKey('1')) === null)
    expect(server.read(keys.valueKey('1'))).toBeNull()
  })
})
