import { waitForHealth } from './cluster-health.js'
import { parseClusterNodes } from './cluster-topology.js'
import { CLUSTER_SLOTS } from './key-slot.js'
import type { RedisClusterDescription } from './redis-cluster-options.js'
import type { RedisNode } from './redis-node.js'
import { redisCommand } from './resp-client.js'
import { waitUntil } from './wait-until.js'

/**
 * Forms a cluster from freshly started, empty nodes, the way `redis-cli --cluster create` does:
 * the first `masters` ports share the slots evenly, the others replicate them in turn; resolves
 * once the cluster is healthy (strictly), or throws at `deadline` (ms since the epoch).
 */
export async function formCluster(nodes: readonly RedisNode[], description: RedisClusterDescription, deadline: number): Promise<void> {
  const { host, ports, masters: masterCount, replicasPerMaster } = description
  const masters = ports.slice(0, masterCount)
  const replicas = ports.slice(masterCount)
  const send = (port: number, args: readonly (string | number)[]) => redisCommand(port, args, { host: host, timeoutMs: 5_000 })
  const remaining = () => Math.max(deadline - Date.now(), 1_000)

  // Distinct config epochs before the nodes meet, as redis-cli does: nodes that all start at
  // epoch 0 resolve the collisions one round at a time, which delays agreement by seconds.
  await Promise.all(ports.map((port, index) => send(port, ['CLUSTER', 'SET-CONFIG-EPOCH', index + 1])))
  await Promise.all(
    masters.map((port, index) => {
      const first = Math.floor((index * CLUSTER_SLOTS) / masterCount)
      const last = Math.floor(((index + 1) * CLUSTER_SLOTS) / masterCount) - 1
      return send(port, ['CLUSTER', 'ADDSLOTSRANGE', first, last])
    }),
  )
  const [introducer, ...others] = ports
  if (introducer === undefined) throw new Error('A cluster needs at least one node')
  for (const port of others) await send(introducer, ['CLUSTER', 'MEET', host, port])
  await waitUntil(
    'every node to know every other node',
    async () => {
      for (const port of ports) {
        const view = parseClusterNodes(String(await send(port, ['CLUSTER', 'NODES'])))
        const settled = view.filter((node) => !node.flags.includes('handshake') && !node.flags.includes('noaddr'))
        if (settled.length < ports.length) return { done: false, reason: `${port} knows ${settled.length} of ${ports.length} nodes` }
      }
      return { done: true, value: undefined }
    },
    { timeoutMs: remaining() },
  )

  const ids = await Promise.all(masters.map(async (port) => String(await send(port, ['CLUSTER', 'MYID']))))
  await Promise.all(
    replicas.map((port, index) => {
      const masterId = ids[Math.floor(index / replicasPerMaster)]
      // A replica can only follow a master it has heard of as a master; gossip may lag behind
      // the MEET that introduced them, so retry until it is accepted.
      return waitUntil(
        `${host}:${port} to replicate ${masterId}`,
        async () => {
          const reply = await send(port, ['CLUSTER', 'REPLICATE', String(masterId)]).catch((error: unknown) => error)
          return reply instanceof Error ? { done: false, reason: reply.message } : { done: true, value: undefined }
        },
        { timeoutMs: remaining() },
      )
    }),
  )
  await waitForHealth(nodes, description, true, remaining())
}
