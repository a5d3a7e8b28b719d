import { describeHttpCacheCases } from '../../express/test/http-cases.js'
import { describeHttpFuzzCases } from '../../express/test/http-fuzz-cases.js'
import { nestDriver } from './nest-driver.js'

// The shared table of HTTP cases, over real HTTP and the Redis Cluster, on both of Nest's platforms.
for (const platform of ['express', 'fastify'] as const) {
  describeHttpCacheCases(nestDriver(platform, 'return'))
  describeHttpCacheCases(nestDriver(platform, 'res'))
  describeHttpFuzzCases(nestDriver(platform, 'return'))
}
describeHttpCacheCases(nestDriver('express', 'return'), { l1Only: true })
