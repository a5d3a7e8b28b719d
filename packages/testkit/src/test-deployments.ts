import type { RemoteStore } from '@tiercache/core'
import { afterAll, beforeAll } from 'vitest'
import { describeRemoteStoreConformance } from './conformance.js'
import type { NodeAddress } from './redis-cluster-options.js'
import { RedisSentinelGroup, type RedisSentinelGroupOptions } from './redis-sentinel-group.js'
import { testCluster, testStandalone } from './test-context.js'

/** How a Redis store package makes its stores on the run's test deployments, and what their factories are called. */
export interface TestDeploymentStores {
  /** The cluster factory's name, e.g. `redisClusterStore`. */
  readonly clusterFactory: string
  cluster(seeds: NodeAddress[], bus: 'publish' | 'spublish'): RemoteStore
  /** The standalone factory's name, e.g. `redisStore`. */
  readonly standaloneFactory: string
  standalone(host: string, port: number): RemoteStore
}

/**
 * The conformance runs every Redis store package makes on the run's shared deployments: the
 * test cluster with each bus flavour (`SPUBLISH` and `PUBLISH`, named in the suite), and the
 * standalone Redis. Sentinel runs need a group of their own (see {@link sentinelGroupForFile}).
 */
export function describeConformanceOnTestDeployments(stores: TestDeploymentStores): void {
  for (const bus of ['spublish', 'publish'] as const) {
    describeRemoteStoreConformance(`${stores.clusterFactory} (${bus} bus)`, async () => stores.cluster(testCluster().seeds(), bus), {
      shards: 'many',
    })
  }
  describeRemoteStoreConformance(stores.standaloneFactory, async () => stores.standalone(testStandalone().host, testStandalone().port))
}

/**
 * Starts a Redis Sentinel group before the tests of the calling file and stops it after them;
 * returns the group (call it inside tests and hooks: the group exists once `beforeAll` ran).
 */
export function sentinelGroupForFile(options: RedisSentinelGroupOptions): () => RedisSentinelGroup {
  let group: RedisSentinelGroup | undefined
  beforeAll(async () => {
    group = await RedisSentinelGroup.start(options)
  }, 90_000)
  afterAll(async () => {
    await group?.stop()
  })
  return () => {
    if (group === undefined) throw new Error('the Sentinel group is not started yet: call it inside a test or hook')
    return group
  }
}
