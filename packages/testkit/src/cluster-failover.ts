import { probeAll } from './cluster-health.js'
import type { ClusterNodeView, SlotRange } from './cluster-topology.js'
import type { RedisNode } from './redis-node.js'
import { type ProbeResult, waitUntil } from './wait-until.js'

/**
 * Waits until `slots` (which the master on `deadMasterPort` served) are owned by one other node
 * on which every other live node agrees, and every other live node reports `cluster_state:ok`;
 * resolves with that new master as the live nodes list it.
 */
export function waitForSlotsTakenOver(
  host: string,
  nodes: readonly RedisNode[],
  deadMasterPort: number,
  slots: readonly SlotRange[],
  timeoutMs: number,
): Promise<ClusterNodeView> {
  return waitUntil(
    `a replica to take over the slots of ${host}:${deadMasterPort}`,
    async (): Promise<ProbeResult<ClusterNodeView>> => {
      const live = (await probeAll(nodes)).filter((probe) => probe.ok && probe.port !== deadMasterPort)
      if (live.length === 0) return { done: false, reason: 'no other node answers' }
      const owners = new Set<number>()
      for (const probe of live) {
        if (!probe.ok) continue
        const state = probe.clusterInfo.get('cluster_state')
        if (state !== 'ok') return { done: false, reason: `${probe.port} reports cluster_state:${state}` }
        for (const [first] of slots) {
          const owner = probe.slots.find((range) => first >= range.first && first <= range.last)
          if (owner === undefined) return { done: false, reason: `${probe.port} has no owner for slot ${first}` }
          owners.add(owner.masterPort)
        }
      }
      const [newPort] = owners
      if (owners.size !== 1 || newPort === undefined)
        return { done: false, reason: `nodes disagree on the new owner: ${[...owners].join(', ')}` }
      if (newPort === deadMasterPort) return { done: false, reason: 'the dead master still owns its slots' }
      const first = live[0]
      const newMaster = first?.ok ? first.views.find((node) => node.port === newPort) : undefined
      if (newMaster === undefined) return { done: false, reason: `the new owner ${newPort} is missing from CLUSTER NODES` }
      return { done: true, value: newMaster }
    },
    { timeoutMs },
  )
}
