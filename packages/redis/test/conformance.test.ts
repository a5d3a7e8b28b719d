import { describeConformanceOnTestDeployments } from '@tiercache/testkit'
import { redisClusterStore, redisStore } from '../src/index.js'

describeConformanceOnTestDeployments({
  clusterFactory: 'redisClusterStore',
  cluster: (seeds, bus) => redisClusterStore({ nodes: seeds, bus }),
  standaloneFactory: 'redisStore',
  standalone: (host, port) => redisStore({ host, port }),
})
