import { describeRemoteStoreConformance, testCluster, testStandalone } from '@tiercache/testkit'
import { redisClusterStore, redisStore } from '../src/index.js'

describeRemoteStoreConformance('redisClusterStore (publish bus)', async () => redisClusterStore({ nodes: testCluster().seeds() }))

describeRemoteStoreConformance('redisClusterStore (spublish bus)', async () =>
  redisClusterStore({ nodes: testCluster().seeds(), bus: 'spublish' }),
)

describeRemoteStoreConformance('redisStore', async () => redisStore({ host: testStandalone().host, port: testStandalone().port }))
