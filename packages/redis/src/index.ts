export {
  type BusMode,
  type DeploymentFacts,
  type Finding,
  type FindingCode,
  keySlot,
  type NodeFacts,
  type ReadFrom,
  type SlotRange,
  type StoreBusOptions,
  type StoreConnectionOptions,
  type StoreReadOptions,
} from '@tiercache/redis-common'
export {
  type ClusterNodeAddress,
  type ClusterNodeRedisOptions,
  DEFAULT_CLUSTER_STORE_OPTIONS,
  type RedisClusterStoreClientOptions,
  type RedisClusterStoreNodesOptions,
  type RedisClusterStoreOptions,
} from './options/cluster-store-options.js'
export {
  DEFAULT_STANDALONE_STORE_OPTIONS,
  type RedisStoreClientOptions,
  type RedisStoreHostOptions,
  type RedisStoreOptions,
  type RedisStoreUrlOptions,
} from './options/standalone-store-options.js'
export { redisClusterStore } from './redis-cluster-store.js'
export { RedisRemoteStore } from './redis-remote-store.js'
export { redisStore } from './redis-store.js'
