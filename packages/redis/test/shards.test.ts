import {
  describeDurableDeletes,
  describeShardChannelFailover,
  expectBusFollowsMovedSlot,
  expectShardIsItsMaster,
  keyInSlots,
  moveSlotElsewhere,
  openedStores,
  redisPipeline,
  testCluster,
  topologyChanges,
} from '@tiercache/testkit'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { redisClusterStore } from '../src/index.js'

const opened = openedStores(() => redisClusterStore({ nodes: testCluster().seeds(), deploymentCheck: false }))
const store = opened.open

afterAll(async () => {
  await testCluster().ensureHealthy()
})

describe('shards at the RemoteStore boundary (Redis Cluster)', () => {
  it('names the master that owns a key slot as its shard', async () => {
    await expectShardIsItsMaster(testCluster(), store(), keyInSlots([0, 16_383]))
  })

  it('reports a slot move with the source and the target master, and shardOf follows the slot', async () => {
    const cluster = testCluster()
    const s = store()
    const key = keyInSlots([100, 100])
    await s.set(key, 'v', 60_000)
    const seen = topologyChanges(s)
    const { source, target } = await moveSlotElsewhere(cluster, 100, opened.restore)
    await vi.waitFor(() => expect(seen.length).toBeGreaterThan(0), { timeout: 10_000, interval: 20 })
    const masters = (await cluster.masters()).map((m) => `127.0.0.1:${m.port}`).sort()
    expect(seen[0]).toEqual({ shards: [`127.0.0.1:${source}`, `127.0.0.1:${target}`].sort(), reason: 'slots', current: masters })
    expect(s.shardOf(key)).toBe(`127.0.0.1:${target}`)
    expect(await s.get(key)).toBe('v')
  })

  it('moves a sharded bus subscription with its slot, telling the subscriber the loss was a move', async () => {
    await expectBusFollowsMovedSlot(testCluster(), store(), 300, opened.restore)
  })

  it('deletes a value and its absent lease while their slot migrates, without TRYAGAIN retries, wherever the value sits', async () => {
    // The cause of old values during resharding: `UNLINK value lock` is one multi-key command, and
    // Redis answers TRYAGAIN to it while the slot migrates and one key (the lock, usually absent)
    // is missing; ioredis retried it every 100 ms until the slot settled, far past the engine's
    // 50 ms timeout, so invalidate() resolved while the old value was still there to be read.
    const cluster = testCluster()
    const s = store()
    const slot = 200
    const [onSource, moved] = [keyInSlots([slot, slot], 'a'), keyInSlots([slot, slot], 'b')]
    const lockOf = (key: string) => key.replace(/:v$/, ':lock')
    await Promise.all([s.set(onSource, 'old', 60_000), s.set(moved, 'old', 60_000)])
    const source = await cluster.masterForSlot(slot)
    const target = (await cluster.masters()).find((m) => m.port !== source.port) as NonNullable<
      Awaited<ReturnType<typeof cluster.masters>>[0]
    >
    // Open the migration by hand and move one of the two values, as a reshard half-way through does.
    await cluster.command(target.port, ['CLUSTER', 'SETSLOT', slot, 'IMPORTING', source.id])
    await cluster.command(source.port, ['CLUSTER', 'SETSLOT', slot, 'MIGRATING', target.id])
    opened.restore.push(async () => {
      for (const port of [source.port, target.port]) await cluster.command(port, ['CLUSTER', 'SETSLOT', slot, 'STABLE'])
      await cluster
        .command(target.port, ['MIGRATE', '127.0.0.1', source.port, '', 0, 5_000, 'REPLACE', 'KEYS', moved])
        .catch(() => undefined)
    })
    await cluster.command(source.port, ['MIGRATE', '127.0.0.1', target.port, '', 0, 5_000, 'KEYS', moved])
    const redirections = await cluster.command(source.port, ['UNLINK', onSource, lockOf(onSource)]).catch((error: Error) => error.message)
    expect(String(redirections)).toMatch(/^TRYAGAIN/)
    await s.delete([onSource, lockOf(onSource), moved, lockOf(moved)])
    // A migrating source answers ASK for a key it does not hold; the target, asked, holds neither.
    expect(String(await cluster.command(source.port, ['EXISTS', onSource]).catch((error: Error) => error.message))).toMatch(/^ASK /)
    expect(await redisPipeline(target.port, [['ASKING'], ['EXISTS', moved]])).toEqual(['OK', 0])
    expect(await s.get(onSource)).toBeNull()
    expect(await s.get(moved)).toBeNull()
  })
})

describeDurableDeletes('durable deletes (WAIT for a replica)', (replicaAckTimeoutMs) =>
  opened.track(redisClusterStore({ nodes: testCluster().seeds(), deploymentCheck: false, replicaAckTimeoutMs })),
)

describeShardChannelFailover('shard channels (ioredis)', () =>
  opened.track(redisClusterStore({ nodes: testCluster().seeds(), deploymentCheck: false, bus: 'spublish' })),
)
