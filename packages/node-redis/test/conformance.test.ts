import { describeConformanceOnTestDeployments, describeRemoteStoreConformance, sentinelGroupForFile } from '@tiercache/testkit'
import { nodeRedisClusterStore, nodeRedisStore } from '../src/index.js'

describeConformanceOnTestDeployments({
  clusterFactory: 'nodeRedisClusterStore',
  cluster: (seeds, bus) => nodeRedisClusterStore({ nodes: seeds, bus }),
  standaloneFactory: 'nodeRedisStore',
  standalone: (host, port) => nodeRedisStore({ host, port }),
})

// One primary, one replica and three Sentinels for the Sentinel runs of this file.
const group = sentinelGroupForFile({ replicas: 1, sentinels: 3 })

describeRemoteStoreConformance('nodeRedisStore through Sentinel', async () =>
  nodeRedisStore({ sentinel: { name: group().masterName, sentinels: group().sentinels() } }),
)

describeRemoteStoreConformance("nodeRedisStore through Sentinel, readFrom: 'replicas-for-hot-keys'", async () =>
  nodeRedisStore({ sentinel: { name: group().masterName, sentinels: group().sentinels() }, readFrom: 'replicas-for-hot-keys' }),
)
