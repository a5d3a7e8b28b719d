import { describeDurableInvalidation, testCluster } from '@tiercache/testkit'
import { redisClusterStore } from '../../src/index.js'

describeDurableInvalidation('durable invalidation', () => redisClusterStore({ nodes: testCluster().seeds() }))
