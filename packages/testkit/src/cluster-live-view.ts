import { type ClusterNodeView, parseClusterNodes } from './cluster-topology.js'
import { redisCommand } from './resp-client.js'

/**
 * `CLUSTER NODES` from the first of `ports` on `host` that answers (500 ms each), asking
 * `excludePort` last; throws with every node's error when none answers.
 */
export async function liveClusterView(host: string, ports: readonly number[], excludePort?: number): Promise<ClusterNodeView[]> {
  const ordered = [...ports.filter((port) => port !== excludePort), ...(excludePort === undefined ? [] : [excludePort])]
  const errors: string[] = []
  for (const port of ordered) {
    try {
      const text = await redisCommand(port, ['CLUSTER', 'NODES'], { host, timeoutMs: 500 })
      return parseClusterNodes(String(text))
    } catch (error) {
      errors.push((error as Error).message)
    }
  }
  throw new Error(`No node of the cluster answers: ${errors.join('; ')}`)
}

/** Whether `node` is a master that serves slots and is not flagged failing, in a live view. */
export function isServingMaster(node: ClusterNodeView): boolean {
  return node.role === 'master' && !node.failing && node.slots.length > 0
}

/**
 * FLUSHALL on each of `masters` (10 s timeout), then WAIT (up to 2 s) for as many replicas as
 * `view` lists for it, so a read from a replica does not see the flushed data.
 */
export async function flushMasters(host: string, view: readonly ClusterNodeView[], masters: readonly ClusterNodeView[]): Promise<void> {
  await Promise.all(
    masters.map(async (master) => {
      const replicas = view.filter((node) => node.masterId === master.id && !node.failing).length
      await redisCommand(master.port, ['FLUSHALL'], { host, timeoutMs: 10_000 })
      if (replicas > 0) await redisCommand(master.port, ['WAIT', replicas, 2_000], { host, timeoutMs: 5_000 })
    }),
  )
}
