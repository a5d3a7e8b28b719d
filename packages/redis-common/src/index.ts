/**
 * The Redis-generic parts of tiercache's Redis stores, shared by `@tiercache/redis` (ioredis) and
 * `@tiercache/node-redis` (node-redis): what does not depend on the client library lives here,
 * once. Applications import a store package, not this one.
 */
export {
  PubSubBus,
  type PubSubBusParts,
  type SubscriberConnection,
  type SubscriberTarget,
  type SubscriberTopology,
} from './bus/pubsub-bus.js'
export {
  CLUSTER_SLOT_COUNT,
  type ClusterNodeLine,
  formatSlotRanges,
  parseClusterNodes,
  type SlotRange,
  slotCount,
  uncoveredSlots,
} from './deployment/cluster-nodes.js'
export { compareAddresses, type DeploymentFacts, type Finding, type FindingCode, findingsOf } from './deployment/findings.js'
export { messageOf, type NodeCaller, type NodeFacts, nodeFacts, parseInfo } from './deployment/node-facts.js'
export { clusterFacts, reportFindings } from './deployment/report-findings.js'
export { groupBySlot, keySlot, mgetBySlot, perSlot } from './key-slot.js'
export { LUA_SCRIPTS, type LuaScriptName } from './lua-scripts.js'
export * from './options/common-options.js'
export { invalidConfig, parseOptions } from './options/parse-options.js'
export {
  connectStoreFields,
  existingClientSchema,
  type ResolvedStoreCommon,
  type ResolvedStoreOptions,
  readingStoreFields,
  resolveStoreCommon,
  resolveStoreOptions,
  type StoreOptionsSpec,
  storeCommonOf,
  storeFields,
} from './options/store-options-skeleton.js'
export { SCAN_BATCH, type ScanNode, scanPatterns, unlinkOnNode } from './prefix-scan.js'
export { settleWithin } from './settle-within.js'
export {
  DurableDeletes,
  type KeyWrite,
  type MasterDeleteReplies,
  type SendMasterDelete,
  SUSPECT_MS,
  UNLINK,
  type UnconfirmedDelete,
} from './shards/durable-deletes.js'
export { connectedReplicas, REPLICA_COUNT_MAX_AGE_MS, ReplicaCount, replicasToWaitFor } from './shards/replica-count.js'
export {
  EMPTY_SLOT_MAP,
  PRIMARY_SHARD,
  type SlotMap,
  sameSlotOwners,
  slotMapChange,
  slotMapOf,
  TOPOLOGY_FAST_REFRESH_MS,
  TOPOLOGY_FAST_WINDOW_MS,
  TOPOLOGY_REFRESH_MS,
  type TopologyListener,
  tellTopologyListeners,
  topologyRefreshDelay,
  UNKNOWN_SHARD,
} from './shards/slot-map.js'
export { TopologyPace } from './shards/topology-pace.js'
export {
  type ConnectEvents,
  closedBeforeReady,
  type Probes,
  refusal,
  runStartupCheck,
  type StartupClient,
  unavailable,
  waitConnected,
} from './startup-check.js'
export { StoreLifecycle } from './store-lifecycle.js'
export {
  foreignType,
  parseStamp,
  probeChannel,
  probeKeyedCommands,
  spreadOverMasters,
  TOMBSTONE,
  WRONG_TYPE,
} from './store-values.js'
