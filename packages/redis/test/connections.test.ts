import { EVENTUALLY, testCluster, testStandalone } from '@tiercache/testkit'
import { describe, expect, it, vi } from 'vitest'
import { type RedisRemoteStore, redisClusterStore, redisStore } from '../src/index.js'
import { type Admin, clusterAdmin, standaloneAdmin, storeConnections } from './admin.js'

async function useEveryFeature(store: RedisRemoteStore): Promise<void> {
  const keys = Array.from({ length: 30 }, (_, i) => `connections:${i}`)
  await store.getMany(keys)
  await store.set('{connections}:v', 'x', 60_000)
  await store.acquireLock('{connections}:lock', 't', 60_000)
  await store.setIfLeaseHeld('{connections}:v', '{connections}:lock', 't', 'y', 60_000)
  await store.releaseLock('{connections}:lock', 't')
  await store.stampTags(keys, 1, 60_000)
  await store.getTagStamps(keys)
  await store.delete(keys)
  await store.publish('connections:bus', 'hello')
}

describe.each([
  { kind: 'cluster', admin: clusterAdmin, create: () => redisClusterStore({ nodes: testCluster().seeds() }) },
  { kind: 'standalone', admin: standaloneAdmin, create: () => redisStore({ host: testStandalone().host, port: testStandalone().port }) },
])('connections of a $kind store', ({ admin: makeAdmin, create }) => {
  it('shares one connection per master across every feature, and adds one subscriber on the first subscribe', async () => {
    const admin: Admin = makeAdmin()
    const store = create()
    try {
      await useEveryFeature(store)
      const masters = await admin.masterPorts()
      const data = (await storeConnections(admin)).filter((connection) => connection.name === 'tiercache')
      for (const port of masters)
        expect(
          data.filter((connection) => connection.port === port),
          `master ${port}`,
        ).toHaveLength(1)
      // No node gets a second data connection, whatever the feature used.
      expect(new Set(data.map((connection) => connection.port)).size).toBe(data.length)
      expect((await storeConnections(admin)).filter((connection) => connection.name === 'tiercache:bus')).toHaveLength(0)

      // One hash tag: with sharded pub/sub (the cluster default) both channels live on one shard,
      // as the core's one bus channel per namespace does.
      const first = await store.subscribe('{connections}:a', { onMessage: () => {} })
      const second = await store.subscribe('{connections}:b', { onMessage: () => {} })
      const bus = (await storeConnections(admin)).filter((connection) => connection.name === 'tiercache:bus')
      expect(bus).toHaveLength(1)
      expect(bus[0]?.flags).toContain('P')

      await first.unsubscribe()
      await second.unsubscribe()
      await vi.waitFor(async () => {
        expect((await storeConnections(admin)).filter((connection) => connection.name === 'tiercache:bus')).toHaveLength(0)
      }, EVENTUALLY)
    } finally {
      await store.close()
    }
    await vi.waitFor(async () => expect(await storeConnections(makeAdmin())).toEqual([]), EVENTUALLY)
  })
})
