import { namespaceKeyPrefixes } from '@tiercache/core'
import { type Finding, findingsOf } from '../deployment/findings.js'
import { type NodeAuth, NodeConnections } from '../deployment/node-connections.js'
import { type NodeFacts, nodeFacts } from '../deployment/node-facts.js'
import { discoverFromSeeds, discoverFromSentinels, type Topology } from '../deployment/topology.js'
import { fetchHotKeys, type ServiceHotKeys } from '../service/hot-keys.js'
import { countNamespaceKeys, type NamespaceKeyCount } from './namespace-keys.js'

/** What to examine and how; the CLI builds it from its arguments. */
export interface DoctorOptions {
  /** Seed nodes (`host:port`) of a cluster or a standalone server. */
  nodes?: readonly string[] | undefined
  /** Sentinels (`host:port`) and the name they monitor the primary under. */
  sentinels?: readonly string[] | undefined
  name?: string | undefined
  auth?: NodeAuth
  /** Count this namespace's keys. */
  namespace?: string | undefined
  /** Keys looked at per master when counting a namespace. Default 10000. */
  sample?: number
  /** A URL answering the service's current hot keys as JSON (`cache.hotKeys()`). */
  hotKeysUrl?: string | undefined
  /** Per-command and connect timeout, in ms. Default 2000. */
  timeoutMs?: number
}

/** Everything the doctor found; `--json` prints it as is. */
export interface DoctorReport {
  topology: Topology
  /** Every data node (masters first, each followed by its replicas), plus Sentinels that did not answer. */
  nodes: NodeFacts[]
  namespace?: NamespaceKeyCount
  hotKeys?: ServiceHotKeys
  findings: Finding[]
  /** Findings of severity `risk`: the CLI exits with 1 when there is any. */
  risks: number
}

/**
 * Examines a deployment the way `tiercache doctor` does: finds its topology, asks every node for
 * its memory settings, keyspace statistics and cluster state, optionally counts a namespace's
 * keys and fetches a service's hot keys, and derives the same findings the store logs at start-up
 * (plus nodes that do not answer). Rejects with `NothingReachableError` when no seed or Sentinel
 * answers.
 */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const connections = new NodeConnections(options.auth ?? {}, options.timeoutMs ?? 2_000)
  try {
    const sentinelMode = options.sentinels !== undefined
    const topology = sentinelMode
      ? await discoverFromSentinels(options.sentinels ?? [], options.name ?? '', connections)
      : await discoverFromSeeds(options.nodes ?? [], connections)
    const cluster = topology.kind === 'cluster'
    const addresses = topology.shards.flatMap((shard) => [shard.master, ...shard.replicas])
    const nodes = await Promise.all(addresses.map((address) => nodeFacts(connections.node(address), { cluster })))
    // Seeds and Sentinels that did not answer are findings too; a seed that is also a node is reported once.
    for (const { address, error } of topology.unreachable) {
      if (!addresses.includes(address)) nodes.push({ address, reachable: false, error })
    }
    const report: DoctorReport = {
      topology,
      nodes,
      findings: findingsOf({
        kind: topology.kind,
        seeds: sentinelMode ? options.sentinels : options.nodes,
        nodes,
        uncoveredSlots: topology.uncoveredSlots,
      }),
      risks: 0,
    }
    report.risks = report.findings.filter((finding) => finding.severity === 'risk').length
    if (options.namespace !== undefined) {
      const masters = topology.shards
        .map((shard) => shard.master)
        .filter((address) => nodes.find((node) => node.address === address)?.reachable === true)
        .map((address) => connections.node(address))
      report.namespace = await countNamespaceKeys(
        masters,
        options.namespace,
        namespaceKeyPrefixes(options.namespace),
        options.sample ?? 10_000,
      )
    }
    if (options.hotKeysUrl !== undefined) report.hotKeys = await fetchHotKeys(options.hotKeysUrl, options.timeoutMs ?? 2_000)
    return report
  } finally {
    connections.close()
  }
}
