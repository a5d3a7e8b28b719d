import { describeRemoteStoreConformance, RedisSentinelGroup, testCluster, testStandalone } from '@tiercache/testkit'
import { afterAll, beforeAll } from 'vitest'
import { nodeRedisClusterStore, nodeRedisStore } from '../src/index.js'

describeRemoteStoreConformance(
  'nodeRedisClusterStore (spublish bus)',
  async () => nodeRedisClusterStore({ nodes: testCluster().seeds() }),
  {
    shards: 'many',
  },
)

describeRemoteStoreConformance(
  'nodeRedisClusterStore (publish bus)',
  async () => nodeRedisClusterStore({ nodes: testCluster().seeds(), bus: 'publish' }),
  { shards: 'many' },
)

describeRemoteStoreConformance('nodeRedisStore', async () => nodeRedisStore({ host: testStandalone().host, port: testStandalone().port }))

// One primary, one replica and three Sentinels for the Sentinel runs of this file.
let group: RedisSentinelGroup
beforeAll(async () => {
  group = await RedisSentinelGroup.start({ replicas: 1, sentinels: 3 })
}, 90_000)
afterAll(async () => {
  await group?.stop()
})

describeRemoteStoreConformance('nodeRedisStore through Sentinel', async () =>
  nodeRedisStore({ sentinel: { name: group.masterName, sentinels: group.sentinels() } }),
)

describeRemoteStoreConformance("nodeRedisStore through Sentinel, readFrom: 'replicas-for-hot-keys'", async () =>
  nodeRedisStore({ sentinel: { name: group.masterName, sentinels: group.sentinels() }, readFrom: 'replicas-for-hot-keys' }),
)
