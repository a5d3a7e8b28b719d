import { describeRemoteStoreConformance, testCluster, testStandalone } from '@tiercache/testkit'
import { redisClusterStore, redisStore } from '../src/index.js'

describeRemoteStoreConformance('redisClusterStore (publish bus)', async () => redisClusterStore({ nodes: testCluster().seeds() }), {
  shards: 'many',
})

describeRemoteStoreConformance(
  'redisClusterStore (spublish bus)',
  async () => redisClusterStore({ nodes: testCluster().seeds(), bus: 'spublish' }),
  { shards: 'many' },
)

describeRemoteStoreConformance('redisStore', async () => redisStore({ host: testStandalone().host, port: testStandalone().port }))
