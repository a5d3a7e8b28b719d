import type { Logger } from '@tiercache/core'
import type { Cluster, Redis } from 'ioredis'
import { parseClusterNodes, type SlotRange, uncoveredSlots } from './cluster-nodes.js'
import { type DeploymentFacts, type Finding, findingsOf } from './findings.js'
import { type NodeCaller, type NodeFacts, nodeFacts } from './node-facts.js'

/** What the store's check needs to know beyond its client. */
export interface DeploymentCheckTarget {
  client: Redis | Cluster
  kind: DeploymentFacts['kind']
  /** The seed nodes or Sentinels the store was given; `undefined` for a passed-in client. */
  seeds: readonly string[] | undefined
}

/**
 * The store's start-up check of the deployment: once the client is ready, asks every master
 * (a cluster's, through the client's own node connections; the primary otherwise) for its memory
 * settings and cluster state, reads the slot map from one master, and logs each finding once as a
 * warning (`{ check: code, nodes }`, then the message). Resolves with the findings; never rejects
 * (a failure of the check itself is logged at debug and yields no findings).
 */
export async function checkDeployment(target: DeploymentCheckTarget, logger: Logger): Promise<Finding[]> {
  let findings: Finding[]
  try {
    findings = findingsOf(await gatherFacts(target))
  } catch (error) {
    logger.debug({ err: error }, 'the deployment check could not run')
    return []
  }
  for (const finding of findings) logger.warn({ check: finding.code, nodes: finding.nodes }, finding.message)
  return findings
}

async function gatherFacts(target: DeploymentCheckTarget): Promise<DeploymentFacts> {
  if (target.kind !== 'cluster') {
    const client = target.client as Redis
    const facts = await nodeFacts(callerOf(client), { cluster: false })
    return { kind: target.kind, seeds: target.seeds, nodes: [facts] }
  }
  const masters = (target.client as Cluster).nodes('master').map(callerOf)
  const nodes: NodeFacts[] = await Promise.all(masters.map((master) => nodeFacts(master, { cluster: true })))
  return { kind: 'cluster', seeds: target.seeds, nodes, uncoveredSlots: await slotGaps(masters) }
}

/** The slots no master serves, from the `CLUSTER NODES` of the first master that answers. */
async function slotGaps(masters: readonly NodeCaller[]): Promise<SlotRange[] | undefined> {
  for (const master of masters) {
    try {
      const lines = parseClusterNodes(String(await master.call('CLUSTER', 'NODES')))
      return uncoveredSlots(lines.filter((line) => line.role === 'master').flatMap((line) => line.slots))
    } catch {
      // This master cannot tell; ask the next.
    }
  }
  return undefined
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
