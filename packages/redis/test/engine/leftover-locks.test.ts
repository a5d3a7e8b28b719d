import { createCache, KeyBuilder } from '@tiercache/core'
import { isolateReplicaOf, recordingLogger, testCluster } from '@tiercache/testkit'
import { describe, expect, it, vi } from 'vitest'
import { redisClusterStore } from '../../src/index.js'
import { uniqueNamespace } from './helpers.js'

describe('a lock left over from a failover (its release lost with the old master)', () => {
  it('is released by another instance waiting for it, which then loads: no reader waits out lockTtl', async () => {
    const cluster = testCluster()
    const namespace = uniqueNamespace()
    const keys = new KeyBuilder(namespace, 'product')
    const stores = [0, 1].map(() => redisClusterStore({ nodes: cluster.seeds() }))
    // A lock of five minutes: a reader that trusted the leftover would wait for it far past the test's timeout.
    const [a, b] = stores.map((store) =>
      createCache({ namespace, logger: recordingLogger(), l2: store, entities: { product: { ttl: '5m', l1: false, lockTtl: '5m' } } }),
    )
    if (a === undefined || b === undefined) throw new Error('two instances')
    let replica: number | undefined
    try {
      await Promise.all([a.ready(), b.ready()])
      let letLoad = () => {}
      const gate = new Promise<void>((resolve) => {
        letLoad = resolve
      })
      // a takes the lock and loads; the replica receives the lock, then is cut off and frozen.
      const reading = a.entity<string>('product').get('k', async () => {
        await gate
        return 'v1'
      })
      const master = await cluster.masterForKey(keys.valueKey('k'))
      await vi.waitFor(async () => expect(await cluster.command(master.port, ['GET', keys.lockKey('k')])).not.toBeNull(), {
        timeout: 10_000,
        interval: 5,
      })
      replica = (await isolateReplicaOf(cluster, keys.valueKey('k'))).replica
      // a's value write frees the lock on the master only; the master dies, the replica is promoted with the lock.
      letLoad()
      expect(await reading).toBe('v1')
      expect(await cluster.command(master.port, ['GET', keys.lockKey('k')])).toBeNull()
      await cluster.kill(master.port)
      await cluster.resume(replica)
      const promoted = await cluster.waitForFailover(master.port, { timeoutMs: 30_000 })
      expect(await cluster.command(promoted.port, ['GET', keys.lockKey('k')])).not.toBeNull()
      // b has seen the failover (its topology watch), then reads: the lock it finds is the leftover.
      await vi.waitFor(() => expect(stores[1]?.shardOf(keys.valueKey('k'))).toBe(`127.0.0.1:${promoted.port}`), {
        timeout: 10_000,
        interval: 20,
      })
      const load = vi.fn(async () => 'v2')
      expect(await b.entity<string>('product').get('k', load)).toBe('v2')
      expect(load).toHaveBeenCalledTimes(1)
      expect(await cluster.command(promoted.port, ['GET', keys.lockKey('k')])).toBeNull()
    } finally {
      if (replica !== undefined) await cluster.resume(replica).catch(() => undefined)
      await Promise.all([a.close(), b.close()])
      await cluster.ensureHealthy({ timeoutMs: 60_000 })
    }
  }, 90_000)
})
