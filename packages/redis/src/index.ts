export type { SlotRange } from './deployment/cluster-nodes.js'
export type { DeploymentFacts, Finding, FindingCode } from './deployment/findings.js'
export type { NodeFacts } from './deployment/node-facts.js'
export { keySlot } from './key-slot.js'
export {
  type ClusterNodeAddress,
  type ClusterNodeRedisOptions,
  DEFAULT_CLUSTER_STORE_OPTIONS,
  type RedisClusterStoreClientOptions,
  type RedisClusterStoreNodesOptions,
  type RedisClusterStoreOptions,
} from './options/cluster-store-options.js'
export type { BusMode, ReadFrom, StoreBusOptions, StoreConnectionOptions, StoreReadOptions } from './options/common-options.js'
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
