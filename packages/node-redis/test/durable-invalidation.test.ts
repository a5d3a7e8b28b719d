import { describeDurableInvalidation, testCluster } from '@tiercache/testkit'
import { nodeRedisClusterStore } from '../src/index.js'

describeDurableInvalidation('durable invalidation (node-redis)', () => nodeRedisClusterStore({ nodes: testCluster().seeds() }))
