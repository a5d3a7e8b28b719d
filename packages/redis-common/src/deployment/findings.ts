import { CLUSTER_SLOT_COUNT, formatSlotRanges, type SlotRange, slotCount } from './cluster-nodes.js'
import type { NodeFacts } from './node-facts.js'

/**
 * What the deployment check can find.
 *
 * - `maxmemory-unset`: `maxmemory` is 0, so Redis grows until the host runs out of memory.
 * - `noeviction`: `maxmemory-policy noeviction`, so writes fail once memory is full.
 * - `single-seed`: one cluster seed node (or one Sentinel) given: if it is down at start, the
 *   store cannot find the deployment.
 * - `cluster-state`: a node reports `cluster_state:fail`.
 * - `slots-uncovered`: hash slots without a master.
 * - `full-coverage-required`: `cluster-require-full-coverage yes` (Redis's default): while one
 *   master is down and not yet failed over, every node refuses every command, so one dead shard
 *   takes the whole cache down instead of its own keys.
 * - `stale-restart`: a node restarted after a crash reloads data saved before it went down (its
 *   RDB snapshots, or the RDB of its last full sync as a replica, which Redis keeps unless
 *   `rdb-del-sync-files yes`): values invalidated since come back whenever that node serves before
 *   it resyncs.
 * - `node-unreachable`: a node the deployment lists does not answer (the doctor only).
 * - `config-unchecked`: `CONFIG GET` is not permitted, so memory and persistence settings were not checked (a
 *   note, not a risk: managed services refuse it and set them for you).
 */
export type FindingCode =
  | 'maxmemory-unset'
  | 'noeviction'
  | 'single-seed'
  | 'cluster-state'
  | 'slots-uncovered'
  | 'full-coverage-required'
  | 'stale-restart'
  | 'node-unreachable'
  | 'config-unchecked'

/** One finding of the deployment check, with the nodes it concerns and what to do about it. */
export interface Finding {
  code: FindingCode
  /** `risk` (the doctor exits non-zero) or `note` (worth knowing; nothing to fix here). */
  severity: 'risk' | 'note'
  /** `host:port` of the nodes concerned, sorted; empty for findings about the configuration. */
  nodes: string[]
  /** One sentence for a person: what is wrong, what it causes, what to do. */
  message: string
}

/** What the findings are derived from. */
export interface DeploymentFacts {
  kind: 'cluster' | 'standalone' | 'sentinel'
  /** The seed nodes (cluster) or Sentinels the client was given; `undefined` when unknown (a passed-in client). */
  seeds: readonly string[] | undefined
  /** The nodes inspected: the masters (the store's check) or every node (the doctor). */
  nodes: readonly NodeFacts[]
  /** Slots with no master, for a cluster; `undefined` when the slot map could not be read. */
  uncoveredSlots?: readonly SlotRange[] | undefined
}

/**
 * The findings of a deployment, one per kind of problem (listing every node it concerns), in a
 * fixed order: configuration first, then cluster health, then memory.
 */
export function findingsOf(facts: DeploymentFacts): Finding[] {
  const findings: Finding[] = []
  const seeds = facts.seeds
  if (seeds !== undefined && seeds.length === 1 && facts.kind !== 'standalone') {
    findings.push(
      facts.kind === 'cluster'
        ? risk(
            'single-seed',
            [],
            `only one seed node given (${seeds[0]}): if it is down when a service starts, the store cannot find the cluster; list several nodes, e.g. one per shard`,
          )
        : risk(
            'single-seed',
            [],
            `only one Sentinel given (${seeds[0]}): if it is down, the store cannot find the primary; list every Sentinel`,
          ),
    )
  }
  const unreachable = addresses(facts.nodes.filter((node) => !node.reachable))
  if (unreachable.length > 0) {
    const reasons = [...new Set(facts.nodes.filter((node) => !node.reachable).map((node) => node.error ?? 'no answer'))]
    findings.push(risk('node-unreachable', unreachable, `${list(unreachable)} did not answer (${reasons.join('; ')})`))
  }
  const failing = addresses(facts.nodes.filter((node) => node.clusterState !== undefined && node.clusterState !== 'ok'))
  if (failing.length > 0) {
    findings.push(
      risk(
        'cluster-state',
        failing,
        `cluster_state is not ok on ${list(failing)}: the cluster refuses reads and writes there (CLUSTERDOWN) until every slot has a live master`,
      ),
    )
  }
  const uncovered = facts.uncoveredSlots ?? []
  if (uncovered.length > 0) {
    findings.push(
      risk(
        'slots-uncovered',
        [],
        `${slotCount(uncovered)} of ${CLUSTER_SLOT_COUNT} hash slots have no master (${formatSlotRanges(uncovered)}): keys that hash there can be neither read nor written; assign them (redis-cli --cluster fix)`,
      ),
    )
  }
  const fullCoverage = addresses(facts.nodes.filter((node) => node.requireFullCoverage === true))
  if (fullCoverage.length > 0) {
    findings.push(
      risk(
        'full-coverage-required',
        fullCoverage,
        `cluster-require-full-coverage is yes on ${list(fullCoverage)}: while one master is down (until its replica is promoted, or for good without one) the cluster refuses every slot, so one dead shard takes the whole cache down; for a cache set it to no (CONFIG SET cluster-require-full-coverage no, and in redis.conf) so only the dead shard's keys are refused`,
      ),
    )
  }
  const reloading = facts.nodes.filter((node) => staleReload(node) !== undefined)
  if (reloading.length > 0) {
    const nodes = addresses(reloading)
    const reasons = [...new Set(reloading.map(staleReload))]
    findings.push(
      risk(
        'stale-restart',
        nodes,
        `a restart reloads old data on ${list(nodes)} (${reasons.join('; ')}): values invalidated after it was saved come back whenever such a node serves before it resyncs (a master restarted before its failover, a replica promoted before its sync ends); for a cache turn persistence off and let replicas delete that file (CONFIG SET save "", appendonly no, rdb-del-sync-files yes, and in redis.conf)`,
      ),
    )
  }
  const unlimited = addresses(facts.nodes.filter((node) => node.maxmemory === 0))
  if (unlimited.length > 0) {
    findings.push(
      risk(
        'maxmemory-unset',
        unlimited,
        `maxmemory is 0 (no limit) on ${list(unlimited)}: Redis grows until the host runs out of memory; set maxmemory (e.g. 75% of the memory the node may use) with an evicting maxmemory-policy`,
      ),
    )
  }
  const noEviction = addresses(facts.nodes.filter((node) => node.maxmemoryPolicy === 'noeviction'))
  if (noEviction.length > 0) {
    findings.push(
      risk(
        'noeviction',
        noEviction,
        `maxmemory-policy is noeviction on ${list(noEviction)}: once maxmemory is reached every cache write fails (OOM) instead of evicting old entries; use allkeys-lru or allkeys-lfu`,
      ),
    )
  }
  const denied = facts.nodes.filter((node) => node.configDenied !== undefined)
  if (denied.length > 0) {
    findings.push({
      code: 'config-unchecked',
      severity: 'note',
      nodes: addresses(denied),
      message: `CONFIG GET is not permitted on ${list(addresses(denied))} (${denied[0]?.configDenied}): maxmemory, maxmemory-policy and persistence were not checked; check them with your provider or operator`,
    })
  }
  return findings
}

/**
 * Why `node` would reload data saved before a crash on restart, or `undefined` when it would not
 * (or it did not say). An append-only file is written as commands run, so it holds the deletions
 * too: only RDB files bring old values back.
 */
function staleReload(node: NodeFacts): string | undefined {
  if (node.appendOnly !== false) return undefined
  if (node.save !== undefined && node.save !== '') return `RDB snapshots on: save "${node.save}"`
  if (node.save === '' && node.rdbDelSyncFiles === false) return 'the RDB of its last full sync as a replica is kept: rdb-del-sync-files no'
  return undefined
}

function risk(code: FindingCode, nodes: string[], message: string): Finding {
  return { code, severity: 'risk', nodes, message }
}

function addresses(nodes: readonly NodeFacts[]): string[] {
  return nodes.map((node) => node.address).sort(compareAddresses)
}

/** Sorts `host:port` by host, then numerically by port. */
export function compareAddresses(a: string, b: string): number {
  const [hostA = '', portA = '0'] = splitAddress(a)
  const [hostB = '', portB = '0'] = splitAddress(b)
  return hostA === hostB ? Number(portA) - Number(portB) : hostA < hostB ? -1 : 1
}

function splitAddress(address: string): [string, string] {
  const colon = address.lastIndexOf(':')
  return [address.slice(0, colon), address.slice(colon + 1)]
}

function list(nodes: readonly string[]): string {
  return nodes.join(', ')
}
