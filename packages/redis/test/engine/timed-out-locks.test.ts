import { type CacheOptions, createCache, KeyBuilder, type RemoteStore } from '@tiercache/core'
import { redisPipeline, testCluster } from '@tiercache/testkit'
import { describe, expect, it, vi } from 'vitest'
import { redisClusterStore } from '../../src/index.js'
import { eventually, uniqueNamespace } from './helpers.js'

/** The store with every `acquireLock` answer Redis gave for `lockKey` recorded, however late it came. */
function recordingLocks(store: RemoteStore, lockKey: () => string): { store: RemoteStore; answers: boolean[] } {
  const answers: boolean[] = []
  const acquireLock = store.acquireLock.bind(store)
  store.acquireLock = (key, token, ttlMs) =>
    acquireLock(key, token, ttlMs).then((held) => {
      if (key === lockKey()) answers.push(held)
      return held
    })
  return { store, answers }
}

/**
 * Instance a times out on a lock attempt against a paused master and loads without the lock;
 * Redis takes the lock when the master resumes. Then: a must give it back at once (the lock
 * lives 60 s, far longer than the test may take), and instance b must load without waiting.
 */
async function lockTakenAfterTheAttemptTimedOut(breaker: CacheOptions['breaker']): Promise<void> {
  const cluster = testCluster()
  const namespace = uniqueNamespace()
  const seeds = cluster.seeds()
  const lockKey = new KeyBuilder(namespace, 'product').lockKey('k')
  const slow = recordingLocks(redisClusterStore({ nodes: seeds }), () => lockKey)
  const make = (store: RemoteStore) =>
    createCache({
      namespace,
      l2: store,
      l2Timeout: 50,
      breaker,
      entities: { product: { ttl: '5m', l1: false, hot: false, lockTtl: '60s', lockWait: '60s' } },
    })
  const a = make(slow.store)
  const b = make(redisClusterStore({ nodes: seeds }))
  try {
    await Promise.all([a.ready(), b.ready()])
    // Until a store has answered once its calls may wait for the connection (5 s): answer one first.
    for (const cache of [a, b]) await cache.entity<string>('product').get('warm-up', async () => 'warm')
    const master = await cluster.masterForKey(lockKey)
    await cluster.pause(master.port)
    try {
      // The read, the lock attempt and the read beside it time out against the frozen master; the
      // value is loaded without the lock. The lock command waits in the master's socket.
      expect(await a.entity<string>('product').get('k', async () => 'loaded while paused')).toBe('loaded while paused')
      expect(a.stats().product?.l2Timeouts).toBeGreaterThan(0)
      expect(slow.answers).toEqual([])
    } finally {
      await cluster.resume(master.port)
    }
    // Redis runs the queued SET NX: the lock is taken, and a gives it back once it hears so.
    await eventually(() => slow.answers.length > 0, 10_000)
    expect(slow.answers).toEqual([true])
    await eventually(async () => (await redisPipeline(master.port, [['EXISTS', lockKey]]))[0] === 0, 5_000)
    // Another instance loads at once instead of waiting for a lock nobody holds.
    const loader = vi.fn(async () => 'loaded by b')
    expect(await b.entity<string>('product').get('k', loader)).toBe('loaded by b')
    expect(loader).toHaveBeenCalledTimes(1)
    expect(b.stats().product?.lockWaits).toBe(0)
  } finally {
    await Promise.all([a.close(), b.close()])
  }
}

describe('a lock attempt that timed out', () => {
  // The chaos run's reads of 9-10 s: a lock attempt timed out (the node was slow or paused), the
  // load went on without the lock, and Redis took the lock when it got to the command. Nobody
  // released it, so every other instance's readers of that key polled it until it expired.
  it('is released when Redis takes the lock after the caller gave up on it: no reader waits out lockTtl', async () => {
    // No breaker: each call of the read goes to the paused node and times out there.
    await lockTakenAfterTheAttemptTimedOut(false)
  }, 60_000)

  // A later chaos run's reads of 1-3 s: the timeouts against the paused master had opened its
  // shard's breaker, so the release of the late lock was skipped and left to the outbox, which
  // waits for the breaker to close; other instances' readers polled the lock all that time.
  it('is released at once even while the timeouts against the paused master hold its shard breaker open', async () => {
    // The read's timeout and the lock attempt's open the breaker, which stays open far longer
    // than the test may take.
    await lockTakenAfterTheAttemptTimedOut({ failures: 2, coolDown: '1m', probes: 1 })
  }, 60_000)
})
