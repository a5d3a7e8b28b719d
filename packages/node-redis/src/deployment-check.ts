import type { Logger } from '@tiercache/core'
import { clusterFacts, type Finding, nodeFacts, reportFindings } from '@tiercache/redis-common'
import type { ClientHandle } from './connection/client-handle.js'

/**
 * The store's start-up check of the deployment, once the client is connected: asks every master
 * (a cluster's, through the client's own node connections; the primary otherwise) for its memory
 * settings and cluster state, reads the slot map from one master, and logs each finding once as a
 * warning (see `reportFindings`). Resolves with the findings; never rejects.
 */
export function checkNodeRedisDeployment(handle: ClientHandle, seeds: readonly string[] | undefined, logger: Logger): Promise<Finding[]> {
  return reportFindings(async () => {
    const masters = await handle.masters()
    if (handle.kind === 'cluster') return clusterFacts(masters, seeds)
    const [primary] = masters
    if (primary === undefined) throw new Error('no primary known')
    return { kind: handle.kind, seeds, nodes: [await nodeFacts(primary, { cluster: false })] }
  }, logger)
}
