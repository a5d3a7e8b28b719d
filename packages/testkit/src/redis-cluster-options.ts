/** The options and plain-data description of a `RedisCluster` (types and defaults only). */

/** How to start a `RedisCluster`. */
export interface RedisClusterOptions {
  /** Number of masters; the 16384 slots are split evenly between them. Default 3. */
  masters?: number
  /** Replicas per master; 0 gives a cluster that cannot fail over. Default 1. */
  replicasPerMaster?: number
  /**
   * `cluster-node-timeout` in milliseconds. A killed master is failed over after roughly this
   * long plus an election (about one more second). Default 1000 (Redis's own default is 15000).
   */
  nodeTimeoutMs?: number
  /** Milliseconds allowed for starting the nodes and forming a healthy cluster. Default 60000. */
  startTimeoutMs?: number
  /**
   * `cluster-require-full-coverage` of every node. `true` (Redis's default): while one slot has no
   * live master, every node refuses every command (CLUSTERDOWN); `false`: only the uncovered
   * slots are refused. Default `true`.
   */
  requireFullCoverage?: boolean
}

/** The defaults of {@link RedisClusterOptions}: 3 masters with 1 replica each, 1 s node timeout. */
export const DEFAULT_REDIS_CLUSTER_OPTIONS: Readonly<Required<RedisClusterOptions>> = Object.freeze({
  masters: 3,
  replicasPerMaster: 1,
  nodeTimeoutMs: 1_000,
  startTimeoutMs: 60_000,
  requireFullCoverage: true,
})

/**
 * Everything needed to rebuild a `RedisCluster` handle in another process (plain data, so
 * it passes through vitest's `provide`/`inject`). Get it from `toJSON()`, use it with `attach()`.
 */
export interface RedisClusterDescription {
  readonly kind: 'redis-cluster'
  /** The run directory holding the nodes' folders and state. */
  readonly runDir: string
  readonly host: string
  /** Client ports of every node, in start order: the first `masters` started as masters. */
  readonly ports: readonly number[]
  readonly masters: number
  readonly replicasPerMaster: number
  readonly nodeTimeoutMs: number
}

/** A host and port to give a cluster client as a seed. */
export interface NodeAddress {
  readonly host: string
  readonly port: number
}

/** Options of the waits of `RedisCluster`. */
export interface WaitOptions {
  /** Give up after this many milliseconds. Default 30000 (60000 for `ensureHealthy`). */
  timeoutMs?: number
}
