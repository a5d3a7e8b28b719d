/**
 * @tiercache/testkit: a real local Redis Cluster (and a standalone Redis) started from
 * `redis-server` for tests, with node kill/pause/restart and failover waits, plus the
 * conformance suite every `RemoteStore` runs, an in-memory `RemoteStore` with a fault wrapper
 * (also at `@tiercache/testkit/memory`) and the shared test helpers (also at
 * `@tiercache/testkit/helpers`; both entries need neither Redis nor vitest). See README.md.
 */

export { describeShardChannelFailover, type ShardBusStore } from './bus-failover-tests.js'
export type { ClusterNodeView, SlotOwner, SlotRange } from './cluster-topology.js'
export { describeRemoteStoreConformance, type StoreCapabilities } from './conformance.js'
export {
  type DurableStore,
  describeDurableDeletes,
  describeDurableInvalidation,
  expectDurableHotKeyInvalidationWithinOneSecond,
  expectDurableInvalidationWithinOneSecond,
  isolateReplicaOf,
} from './durable-delete-tests.js'
export { CLUSTER_BUS_PORT_OFFSET, type FindFreeRedisPortOptions, findFreePort, findFreeRedisPort, isPortFree } from './free-port.js'
export * from './helpers/index.js'
export { CLUSTER_SLOTS, keySlot } from './key-slot.js'
export { EVENTUALLY, TEST_L2_TIMEOUT } from './loaded-machine.js'
export * from './memory/index.js'
export { CLUSTER_CONTEXT_KEY, STANDALONE_CONTEXT_KEY } from './provided-context.js'
export { RedisCluster } from './redis-cluster.js'
// DEFAULT_REDIS_CLUSTER_OPTIONS and the types NodeAddress, RedisClusterDescription, RedisClusterOptions, WaitOptions.
export * from './redis-cluster-options.js'
export { type RedisNodeInfo, RedisNodeStartError, type RedisNodeTlsOptions } from './redis-node.js'
export {
  DEFAULT_REDIS_SENTINEL_GROUP_OPTIONS,
  RedisSentinelGroup,
  type RedisSentinelGroupOptions,
} from './redis-sentinel-group.js'
export { requireRedisServer } from './redis-server-binary.js'
export { RedisStandalone, type RedisStandaloneDescription, type RedisStandaloneOptions } from './redis-standalone.js'
export { type RedisCommandOptions, RedisReplyError, type RespValue, redisCommand, redisPipeline } from './resp-client.js'
export { shardKillFixture } from './shard-kill-fixture.js'
export {
  expectBusFollowsMovedSlot,
  expectShardIsItsMaster,
  keyInSlots,
  moveSlotElsewhere,
  type OpenedStores,
  openedStores,
  topologyChanges,
} from './shard-test-helpers.js'
export { type MoveSlotsOptions, migrateSlots, type SlotMoveTarget } from './slot-migration.js'
export { testCluster, testStandalone } from './test-context.js'
export { describeConformanceOnTestDeployments, sentinelGroupForFile, type TestDeploymentStores } from './test-deployments.js'
