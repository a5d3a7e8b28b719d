export type {
  BusMode,
  DeploymentFacts,
  Finding,
  FindingCode,
  NodeFacts,
  ReadFrom,
  StoreBusOptions,
  StoreReadOptions,
} from '@tiercache/redis-common'
export type { DataCommands, NodeRedisClient } from './connection/client-handle.js'
export { nodeRedisClusterStore } from './node-redis-cluster-store.js'
export { NodeRedisRemoteStore } from './node-redis-remote-store.js'
export { nodeRedisStore } from './node-redis-store.js'
export type {
  NodeRedisClusterNode,
  NodeRedisClusterStoreClientOptions,
  NodeRedisClusterStoreNodesOptions,
  NodeRedisClusterStoreOptions,
} from './options/cluster-store-options.js'
export { DEFAULT_NODE_REDIS_CLIENT_OPTIONS, type NodeRedisAuthOptions } from './options/connection-options.js'
export type {
  NodeRedisStoreClientOptions,
  NodeRedisStoreHostOptions,
  NodeRedisStoreOptions,
  NodeRedisStoreSentinelOptions,
  NodeRedisStoreUrlOptions,
} from './options/standalone-store-options.js'
