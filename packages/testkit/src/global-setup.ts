/**
 * The testkit's vitest global setup (`test.globalSetup`): starts ONE Redis Cluster (3 masters +
 * 3 replicas, `cluster-require-full-coverage no` as docs/operations.md recommends for a cache) and ONE standalone Redis for the whole `vitest run`, provides their descriptions
 * to every test file under `tiercache:cluster` and `tiercache:standalone`, and stops both when
 * the run ends. Put it in the root config only: vitest runs a global setup once per project
 * that lists it.
 */
import type { TestProject } from 'vitest/node'
import { CLUSTER_CONTEXT_KEY, STANDALONE_CONTEXT_KEY } from './provided-context.js'
import { RedisCluster } from './redis-cluster.js'
import { requireRedisServer } from './redis-server-binary.js'
import { RedisStandalone } from './redis-standalone.js'

export { CLUSTER_CONTEXT_KEY, STANDALONE_CONTEXT_KEY } from './provided-context.js'

/** Starts the run's Redis, provides it to the tests and returns the teardown that stops it. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Fails the run at once, with the install command, when Redis is missing.
  requireRedisServer()
  const [cluster, standalone] = await Promise.allSettled([RedisCluster.start({ requireFullCoverage: false }), RedisStandalone.start()])
  if (cluster.status === 'rejected' || standalone.status === 'rejected') {
    await Promise.allSettled([cluster, standalone].map((started) => (started.status === 'fulfilled' ? started.value.stop() : undefined)))
    throw cluster.status === 'rejected' ? cluster.reason : (standalone as PromiseRejectedResult).reason
  }
  project.provide(CLUSTER_CONTEXT_KEY, cluster.value.toJSON())
  project.provide(STANDALONE_CONTEXT_KEY, standalone.value.toJSON())
  return async () => {
    await Promise.all([cluster.value.stop(), standalone.value.stop()])
  }
}
