import type { TopologyChange } from '@tiercache/core'
import { eventually, RedisSentinelGroup } from '@tiercache/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nodeRedisStore } from '../src/index.js'

// One primary, one replica and three Sentinels for this file.
let group: RedisSentinelGroup
beforeAll(async () => {
  group = await RedisSentinelGroup.start({ replicas: 1, sentinels: 3 })
}, 90_000)
afterAll(async () => {
  await group?.stop()
})

describe('shards through Sentinel (node-redis)', () => {
  it('is one shard, confirms deletes on a replica, and reports a Sentinel failover (+switch-master) while the old primary still runs', async () => {
    // A replica's acknowledgement can take longer than the default 50 ms on a loaded test machine.
    const store = nodeRedisStore({
      sentinel: { name: group.masterName, sentinels: group.sentinels() },
      deploymentCheck: false,
      replicaAckTimeoutMs: 2_000,
    })
    try {
      const seen: TopologyChange[] = []
      store.onTopologyChange((change) => seen.push(change))
      await store.set('{nr-sentinel}:a', 'v', 60_000)
      expect(store.shardOf('{nr-sentinel}:a')).toBe('primary')
      expect(store.shardOf('{nr-sentinel}:b')).toBe('primary')
      // Connecting to the first primary is no change.
      expect(seen).toEqual([])
      expect(await store.deleteDurably(['{nr-sentinel}:a'])).toEqual({ unconfirmed: [] })
      expect(await store.get('{nr-sentinel}:a')).toBeNull()
      await store.set('{nr-sentinel}:a', 'v', 60_000)
      const old = await group.primary()
      const [sentinel] = group.sentinels()
      if (sentinel === undefined) throw new Error('no Sentinel')
      // A graceful failover: the old primary keeps running (as a replica), so only +switch-master tells the client.
      expect(await group.command(sentinel.port, ['SENTINEL', 'FAILOVER', group.masterName])).toBe('OK')
      await group.waitForFailover(old.port, { timeoutMs: 30_000 })
      await eventually(() => seen.length > 0, 20_000)
      expect(seen).toEqual([{ shards: ['primary'], reason: 'failover' }])
      expect(store.shardOf('{nr-sentinel}:a')).toBe('primary')
      await eventually(async () => (await store.get('{nr-sentinel}:a').catch(() => null)) === 'v', 20_000)
      // The new primary has the old one as its replica: a durable delete there is confirmed again.
      await eventually(async () => (await store.deleteDurably(['{nr-sentinel}:a']).catch(() => null))?.unconfirmed.length === 0, 20_000)
      expect(await store.get('{nr-sentinel}:a')).toBeNull()
    } finally {
      await store.close()
    }
  }, 60_000)
})
