import type { Logger } from '@tiercache/core'
import { parseClusterNodes, type SlotRange, uncoveredSlots } from './cluster-nodes.js'
import { type DeploymentFacts, type Finding, findingsOf } from './findings.js'
import { type NodeCaller, type NodeFacts, nodeFacts } from './node-facts.js'

/**
 * The stores' start-up check of the deployment, once the facts are gathered: logs each finding
 * once as a warning (`{ check: code, nodes }`, then the message) and resolves with the findings.
 * Never rejects: a failure to gather the facts is logged at debug and yields no findings.
 */
export async function reportFindings(gather: () => Promise<DeploymentFacts>, logger: Logger): Promise<Finding[]> {
  let findings: Finding[]
  try {
    findings = findingsOf(await gather())
  } catch (error) {
    logger.debug({ err: error }, 'the deployment check could not run')
    return []
  }
  for (const finding of findings) logger.warn({ check: finding.code, nodes: finding.nodes }, finding.message)
  return findings
}

/** The facts of a cluster whose masters the client knows: each master's settings, and the slot map's gaps. */
export async function clusterFacts(masters: readonly NodeCaller[], seeds: readonly string[] | undefined): Promise<DeploymentFacts> {
  const nodes: NodeFacts[] = await Promise.all(masters.map((master) => nodeFacts(master, { cluster: true })))
  return { kind: 'cluster', seeds, nodes, uncoveredSlots: await slotGaps(masters) }
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
