import { compareAddresses, messageOf, parseClusterNodes, parseInfo, type SlotRange, uncoveredSlots } from '@tiercache/redis-common'
import { type NodeConnections, parseAddress } from './node-connections.js'

/** A master (primary) with its slots (cluster only) and its replicas. */
export interface Shard {
  master: string
  /** Empty outside a cluster, and for a cluster master that serves no slot. */
  slots: SlotRange[]
  replicas: string[]
  /** Nodes of this shard the cluster (or the Sentinels) flag as down. */
  failing: string[]
}

/** What the doctor found the deployment to be made of. */
export interface Topology {
  kind: 'cluster' | 'standalone' | 'sentinel'
  shards: Shard[]
  /** Sentinels: those given that answered, plus those they know of. */
  sentinels: string[]
  /** Given Sentinels (or seeds) that did not answer, with why. */
  unreachable: { address: string; error: string }[]
  /** Cluster only: slots with no master. */
  uncoveredSlots?: SlotRange[]
  /** The node (or Sentinel) that described the topology. */
  describedBy: string
}

/** Raised when no seed or Sentinel answers: the doctor cannot say anything. */
export class NothingReachableError extends Error {
  override readonly name = 'NothingReachableError'
}

/**
 * Learns the topology from the first seed that answers: `CLUSTER NODES` on a cluster node;
 * `INFO replication` on a standalone server (whose replicas it lists; a replica given as seed
 * leads to its primary).
 */
export async function discoverFromSeeds(seeds: readonly string[], connections: NodeConnections): Promise<Topology> {
  const unreachable: { address: string; error: string }[] = []
  for (const seed of seeds) {
    const node = connections.node(seed)
    let nodesText: string
    try {
      nodesText = String(await node.call('CLUSTER', 'NODES'))
    } catch (error) {
      const message = messageOf(error)
      if (/cluster support disabled/i.test(message)) return { ...(await standaloneTopology(seed, connections)), unreachable }
      unreachable.push({ address: seed, error: message })
      continue
    }
    // A node that never met another does not know its own IP yet (":port"): it is the seed's.
    const seedHost = parseAddress(seed).host
    const lines = parseClusterNodes(nodesText).map((line) =>
      line.address.startsWith(':') ? { ...line, address: `${seedHost}${line.address}` } : line,
    )
    const masters = lines.filter((line) => line.role === 'master').sort((a, b) => (a.slots[0]?.[0] ?? 1e9) - (b.slots[0]?.[0] ?? 1e9))
    const shards = masters.map((master) => {
      const replicas = lines.filter((line) => line.masterId === master.id)
      return {
        master: master.address,
        slots: master.slots,
        replicas: replicas.map((replica) => replica.address).sort(compareAddresses),
        failing: [master, ...replicas].filter((line) => line.failing).map((line) => line.address),
      }
    })
    return {
      kind: 'cluster',
      shards,
      sentinels: [],
      unreachable,
      uncoveredSlots: uncoveredSlots(masters.flatMap((master) => master.slots)),
      describedBy: seed,
    }
  }
  throw new NothingReachableError(`no seed node answered: ${unreachable.map((u) => `${u.address} (${u.error})`).join('; ')}`)
}

async function standaloneTopology(seed: string, connections: NodeConnections): Promise<Omit<Topology, 'unreachable'>> {
  let info = parseInfo(String(await connections.node(seed).call('INFO', 'replication')))
  let primary = seed
  if (info.get('role') === 'slave') {
    primary = `${info.get('master_host')}:${info.get('master_port')}`
    info = parseInfo(String(await connections.node(primary).call('INFO', 'replication')))
  }
  const replicas = [...info.entries()]
    .filter(([field]) => /^slave\d+$/.test(field))
    .map(([, value]) => {
      const fields = new Map(value.split(',').map((pair) => pair.split('=') as [string, string]))
      return `${fields.get('ip')}:${fields.get('port')}`
    })
    .sort(compareAddresses)
  return { kind: 'standalone', shards: [{ master: primary, slots: [], replicas, failing: [] }], sentinels: [], describedBy: seed }
}

/** Learns the primary, its replicas and the other Sentinels from the first Sentinel that answers. */
export async function discoverFromSentinels(sentinels: readonly string[], name: string, connections: NodeConnections): Promise<Topology> {
  const unreachable: { address: string; error: string }[] = []
  const answered: string[] = []
  let found: Omit<Topology, 'unreachable' | 'sentinels'> | undefined
  const known = new Set<string>()
  for (const address of sentinels) {
    const sentinel = connections.sentinel(address)
    try {
      const primary = await sentinel.call('SENTINEL', 'get-master-addr-by-name', name)
      if (!Array.isArray(primary)) throw new Error(`this Sentinel does not monitor a primary named "${name}"`)
      answered.push(address)
      if (found !== undefined) continue
      const replicas = records(await sentinel.call('SENTINEL', 'replicas', name))
      for (const other of records(await sentinel.call('SENTINEL', 'sentinels', name))) known.add(`${other.get('ip')}:${other.get('port')}`)
      const down = (record: Map<string, string>) => /s_down|o_down|disconnected/.test(record.get('flags') ?? '')
      found = {
        kind: 'sentinel',
        shards: [
          {
            master: `${primary[0]}:${primary[1]}`,
            slots: [],
            replicas: replicas.map((replica) => `${replica.get('ip')}:${replica.get('port')}`).sort(compareAddresses),
            failing: replicas.filter(down).map((replica) => `${replica.get('ip')}:${replica.get('port')}`),
          },
        ],
        describedBy: address,
      }
    } catch (error) {
      unreachable.push({ address, error: messageOf(error) })
    }
  }
  if (found === undefined) {
    throw new NothingReachableError(`no Sentinel answered for "${name}": ${unreachable.map((u) => `${u.address} (${u.error})`).join('; ')}`)
  }
  return { ...found, sentinels: [...new Set([...answered, ...known])].sort(compareAddresses), unreachable }
}

/** A Sentinel reply listing instances as flat `[field, value, ...]` arrays. */
function records(reply: unknown): Map<string, string>[] {
  if (!Array.isArray(reply)) return []
  return reply.map((entry) => {
    const map = new Map<string, string>()
    if (Array.isArray(entry)) for (let i = 0; i + 1 < entry.length; i += 2) map.set(String(entry[i]), String(entry[i + 1]))
    return map
  })
}
