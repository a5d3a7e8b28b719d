import { inject } from 'vitest'
import { CLUSTER_CONTEXT_KEY, STANDALONE_CONTEXT_KEY } from './provided-context.js'
import { RedisCluster } from './redis-cluster.js'
import { RedisStandalone } from './redis-standalone.js'

let cluster: RedisCluster | undefined
let standalone: RedisStandalone | undefined

const MISSING_SETUP =
  'is not provided: add the testkit global setup to the vitest config ' +
  "(test.globalSetup: ['@tiercache/testkit/global-setup'] or the path of its dist/global-setup.js)."

/**
 * The Redis Cluster of this test run (3 masters + 3 replicas), started once by the testkit's
 * global setup and handed to every test file; the handle can kill, pause and restart its nodes.
 * Call it inside tests or hooks. The vitest setup file has already made it healthy and empty
 * before the file's tests run.
 */
export function testCluster(): RedisCluster {
  if (cluster === undefined) {
    const description = inject(CLUSTER_CONTEXT_KEY)
    if (description === undefined) throw new Error(`${CLUSTER_CONTEXT_KEY} ${MISSING_SETUP}`)
    cluster = RedisCluster.attach(description)
  }
  return cluster
}

/** The standalone Redis of this test run, shared like {@link testCluster}. */
export function testStandalone(): RedisStandalone {
  if (standalone === undefined) {
    const description = inject(STANDALONE_CONTEXT_KEY)
    if (description === undefined) throw new Error(`${STANDALONE_CONTEXT_KEY} ${MISSING_SETUP}`)
    standalone = RedisStandalone.attach(description)
  }
  return standalone
}
