import { createCache, KeyBuilder, type RemoteStore } from '@tiercache/core'
import { redisPipeline, shardKillFixture, testCluster } from '@tiercache/testkit'
import { loopUntilTimerFires, readersAcrossShards } from '@tiercache/testkit/helpers'
import { describe, expect, it } from 'vitest'
import { redisClusterStore } from '../../src/index.js'
import { deferred, eventually, recordingLogger, uniqueNamespace } from './helpers.js'

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Sets `cluster-require-full-coverage` on every node that answers. */
async function fullCoverage(cluster: ReturnType<typeof testCluster>, value: 'no'): Promise<void> {
  await Promise.all(
    cluster.nodes.map((node) =>
      cluster.command(node.port, ['CONFIG', 'SET', 'cluster-require-full-coverage', value]).catch(() => undefined),
    ),
  )
}

// The cluster store names its shards (the owning master) and reports topology changes itself.
async function shardedStore(): Promise<RemoteStore> {
  return redisClusterStore({ nodes: testCluster().seeds() })
}

type CacheOptions = Parameters<typeof createCache>[0]

/** A ready cache in `namespace` with entity `product` (5 min TTL, no L1, no hot keys, plus `product`). */
async function readyProductCache(
  namespace: string,
  options: Omit<CacheOptions, 'namespace' | 'entities'>,
  product: Partial<NonNullable<CacheOptions['entities']>[string]> = {},
) {
  const cache = createCache({ namespace, ...options, entities: { product: { ttl: '5m', l1: false, hot: false, ...product } } })
  await cache.ready()
  return cache
}

describe('one shard down is one shard down', () => {
  it('a killed master costs the reads of its own slots only: healthy shards keep their L2 hits, callers see no error, L2 hits resume after the promotion', async () => {
    const cluster = testCluster()
    const namespace = uniqueNamespace()
    // With `yes` (Redis's default) every master refuses every slot while one is uncovered, whatever
    // the cache does; a cache's cluster runs with `no` (docs/operations.md), as the test cluster does.
    // Said again here because this test depends on it.
    await fullCoverage(cluster, 'no')
    const store = await shardedStore()
    const { cache, products, victim, victimShard, ids, onVictim, storeStates, shardStates } = await shardKillFixture(
      cluster,
      store,
      namespace,
      300,
    )

    const readers = await readersAcrossShards(products, ids, onVictim, 32)
    const { counts } = readers
    try {
      await sleep(300)
      readers.startCounting()
      await cluster.kill(victim.port)
      await cluster.waitForFailover(victim.port, { timeoutMs: 30_000 })
      const promotedAt = performance.now()
      const healthyShare = counts.healthyLoads / Math.max(1, counts.healthyReads)
      // L2 hits resume for the dead shard's keys: a stretch of its reads without a load.
      const readsAtPromotion = counts.victimReads
      await eventually(() => performance.now() - counts.lastVictimLoad > 500 && counts.victimReads > readsAtPromotion + 100, 20_000)
      console.info(
        `[shard kill] healthy-shard reads ${counts.healthyReads}, loads ${counts.healthyLoads} (${(healthyShare * 100).toFixed(2)}%), ` +
          `dead-shard loads ${counts.victimLoads}, last dead-shard load ${Math.round(counts.lastVictimLoad - promotedAt)} ms after the promotion, errors ${counts.errors}`,
      )
      expect(counts.errors).toBe(0)
      expect(healthyShare).toBeLessThanOrEqual(0.05)
      // The dead shard's breaker opened; L2 as a whole never counted as down.
      expect(shardStates).toContainEqual(expect.objectContaining({ shard: victimShard, state: 'open' }))
      expect(storeStates).not.toContain('open')
      expect(cache.breakerState()).toBe('closed')
    } finally {
      await readers.stop()
      await cache.close()
      await cluster.ensureHealthy({ timeoutMs: 60_000 })
      // Left at `no`: the test cluster runs with it (testkit's global setup), and setting `yes` here
      // once made the doctor and deployment-check files that ran later find `full-coverage-required`.
    }
  }, 120_000)

  it('while L2 is skipped, a loop of reads with a loader that never yields still lets a timer run', async () => {
    const cluster = testCluster()
    const namespace = uniqueNamespace()
    const cache = await readyProductCache(namespace, {
      l2: redisClusterStore({ nodes: cluster.seeds() }),
      l2Timeout: 50,
      breaker: { failures: 1, coolDown: '1m', probes: 1 },
    })
    const products = cache.entity<string>('product')
    const victim = await cluster.masterForKey(new KeyBuilder(namespace, 'product').valueKey('x'))
    // One answered call first: until the store has answered once, calls wait up to 5 s for its
    // connection instead of the 50 ms timeout, and by then the paused master (cluster-node-timeout
    // 1 s) may have been failed over, its breaker never seen open.
    expect(await products.get('x', () => 'computed')).toBe('computed')
    await cluster.pause(victim.port)
    try {
      // Breakers are per shard: the paused master's opens, the others stay closed.
      await eventually(async () => {
        await products.get('x', () => 'computed')
        return Object.values(cache.breakerShards()).includes('open')
      }, 10_000)
      // Without a turn of the event loop now and then this loop is one chain of microtasks: it
      // runs all 2,000,000 reads (minutes) and the timer fires only after it. Every read is of the
      // paused shard's key, so none does I/O that would yield by itself.
      const loop = await loopUntilTimerFires(2_000_000, async () => {
        expect(await products.get('x', () => 'computed')).toBe('computed')
      })
      console.info(`[starvation] the timer fired after ${loop.runs} reads served without L2`)
      expect(loop.fired).toBe(true)
    } finally {
      await cluster.resume(victim.port)
      await cache.close()
      await cluster.ensureHealthy({ timeoutMs: 60_000 })
    }
  }, 120_000)

  it('a lock release that could not reach its dead master is retried after the failover: the lock does not live out its lockTtl', async () => {
    const cluster = testCluster()
    const namespace = uniqueNamespace()
    const cache = await readyProductCache(
      namespace,
      { logger: recordingLogger(), l2: await shardedStore(), l2Timeout: '250ms', breaker: { failures: 1, coolDown: '200ms', probes: 1 } },
      { lockTtl: '60s' },
    )
    const products = cache.entity<string>('product')
    const keys = new KeyBuilder(namespace, 'product')
    const lockKey = keys.lockKey('k')
    const victim = await cluster.masterForKey(lockKey)
    const release = deferred<void>()
    const read = products.get('k', async () => {
      await release.promise
      return 'loaded'
    })
    try {
      // The lock is taken and has reached the master's replica (READONLY: a replica answers reads).
      const replica = (await cluster.replicas()).find((node) => node.masterId === victim.id)
      if (replica === undefined) throw new Error('the victim master has no replica')
      await eventually(async () => {
        const [, value] = await redisPipeline(replica.port, [['READONLY'], ['GET', lockKey]])
        return typeof value === 'string'
      }, 10_000)
      await cluster.kill(victim.port)
      // The load ends while its master is dead: the write and the release both fail.
      release.resolve()
      expect(await read).toBe('loaded')
      await cluster.waitForFailover(victim.port, { timeoutMs: 30_000 })
      const freedIn = await eventually(async () => {
        const owner = await cluster.masterForKey(lockKey)
        return (await redisPipeline(owner.port, [['GET', lockKey]]))[0] === null
      }, 20_000)
      console.info(`[lock release] the lock was released ${Math.round(freedIn)} ms after the promotion (lockTtl 60 s)`)
    } finally {
      release.resolve()
      await cache.close()
      await cluster.ensureHealthy({ timeoutMs: 60_000 })
    }
  }, 120_000)
})
