import type { Logger } from '@tiercache/core'
import { clusterFacts, type DeploymentFacts, type Finding, type NodeCaller, nodeFacts, reportFindings } from '@tiercache/redis-common'
import type { Cluster, Redis } from 'ioredis'
import { type NodeAuth, NodeConnections } from './node-connections.js'
import { discoverFromSeeds } from './topology.js'

/** Per-command and connect timeout of the seed connections of a cluster that is not ready, in ms. */
const SEED_TIMEOUT_MS = 2_000

/** What the store's check needs to know beyond its client. */
export interface DeploymentCheckTarget {
  client: Redis | Cluster
  kind: DeploymentFacts['kind']
  /** The seed nodes or Sentinels the store was given; `undefined` for a passed-in client. */
  seeds: readonly string[] | undefined
}

/**
 * The store's start-up check of the deployment: asks every master (a cluster's, through the
 * client's own node connections; the primary otherwise) for its memory settings and cluster
 * state, reads the slot map from one master, and logs each finding once as a warning
 * (`{ check: code, nodes }`, then the message). A cluster client that is not ready is asked
 * nothing: ioredis does not get ready while `cluster_state` is not ok, which is exactly what the
 * check must report, so the seed nodes are asked instead, over short-lived connections with the
 * client's credentials. Resolves with the findings; never rejects (a failure of the check itself
 * is logged at debug and yields no findings).
 */
export function checkDeployment(target: DeploymentCheckTarget, logger: Logger): Promise<Finding[]> {
  return reportFindings(() => gatherFacts(target), logger)
}

async function gatherFacts(target: DeploymentCheckTarget): Promise<DeploymentFacts> {
  if (target.kind !== 'cluster') {
    const client = target.client as Redis
    const facts = await nodeFacts(callerOf(client), { cluster: false })
    return { kind: target.kind, seeds: target.seeds, nodes: [facts] }
  }
  const cluster = target.client as Cluster
  if (cluster.status !== 'ready' && target.seeds !== undefined) return factsFromSeeds(target.seeds, authOf(cluster))
  return clusterFacts(cluster.nodes('master').map(callerOf), target.seeds)
}

async function factsFromSeeds(seeds: readonly string[], auth: NodeAuth): Promise<DeploymentFacts> {
  const connections = new NodeConnections(auth, SEED_TIMEOUT_MS)
  try {
    const topology = await discoverFromSeeds(seeds, connections)
    const nodes = await Promise.all(topology.shards.map((shard) => nodeFacts(connections.node(shard.master), { cluster: true })))
    return { kind: 'cluster', seeds, nodes, uncoveredSlots: topology.uncoveredSlots }
  } finally {
    connections.close()
  }
}

/** The credentials and TLS settings of the cluster's node connections. */
function authOf(cluster: Cluster): NodeAuth {
  const options = cluster.options.redisOptions ?? {}
  return {
    username: options.username,
    password: options.password,
    tls: options.tls === undefined ? undefined : (options.tls as Record<string, unknown>),
  }
}

function callerOf(client: Redis): NodeCaller {
  // Through Sentinel, the options hold no address: the connection knows where it went.
  const stream = (client as { stream?: { remoteAddress?: string; remotePort?: number } }).stream
  const address =
    client.options.sentinels && stream?.remoteAddress !== undefined
      ? `${stream.remoteAddress}:${stream.remotePort}`
      : `${client.options.host ?? '127.0.0.1'}:${client.options.port ?? 6379}`
  return {
    address,
    call: (...args) => client.call(...(args as [string, ...(string | number)[]])),
  }
}
