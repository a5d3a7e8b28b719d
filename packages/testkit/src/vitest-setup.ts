/**
 * The testkit's vitest setup file (`test.setupFiles`). Before each test file's tests, it attaches
 * to the cluster and standalone Redis the global setup started, repairs whatever the previous
 * file broke (killed or paused nodes) and deletes every key, so each file starts from a healthy,
 * empty Redis. Files must run one at a time (`fileParallelism: false`) since they share it.
 */
import { beforeAll } from 'vitest'
import { testCluster, testStandalone } from './test-context.js'

export { testCluster, testStandalone } from './test-context.js'

// Generous: restarting nodes and waiting for a cluster to agree again takes a few seconds, more
// on a loaded machine, and a timeout here would fail a whole file for a slow neighbour.
const RESET_TIMEOUT_MS = 90_000

beforeAll(async () => {
  const cluster = testCluster()
  const standalone = testStandalone()
  await Promise.all([cluster.ensureHealthy(), standalone.ensureHealthy()])
  await Promise.all([cluster.flushAll(), standalone.flushAll()])
}, RESET_TIMEOUT_MS)
