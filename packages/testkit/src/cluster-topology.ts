import type { RespValue } from './resp-client.js'

/** An inclusive range of hash slots, `[first, last]`. */
export type SlotRange = readonly [first: number, last: number]

/** One line of `CLUSTER NODES`: how one node sees another (or itself). */
export interface ClusterNodeView {
  /** The node's 40-character cluster id; stable across restarts (it lives in nodes.conf). */
  readonly id: string
  readonly host: string
  /** The client port. */
  readonly port: number
  readonly role: 'master' | 'replica'
  /** The id of the master this node replicates; `null` for masters. */
  readonly masterId: string | null
  /** The raw flags, e.g. `myself`, `master`, `slave`, `fail?`, `fail`, `handshake`, `noaddr`. */
  readonly flags: readonly string[]
  /** `true` when the viewing node suspects (`fail?`) or has agreed (`fail`) that this node is down. */
  readonly failing: boolean
  /** `true` on the line that describes the viewing node itself. */
  readonly myself: boolean
  readonly linkState: 'connected' | 'disconnected'
  /** The slots this node serves; empty for replicas. Migration markers are left out. */
  readonly slots: readonly SlotRange[]
}

/** Parses the text of `CLUSTER NODES`. */
export function parseClusterNodes(text: string): ClusterNodeView[] {
  const views: ClusterNodeView[] = []
  for (const line of text.split('\n')) {
    const fields = line.trim().split(' ')
    if (fields.length < 8) continue
    const [id = '', address = '', flagText = '', master = '-', , , , linkState = 'disconnected', ...slotFields] = fields
    // "ip:port@cport[,hostname]"; the ip may be IPv6, hence lastIndexOf.
    const hostPort = address.split(',')[0]?.split('@')[0] ?? ''
    const colon = hostPort.lastIndexOf(':')
    const flags = flagText.split(',')
    views.push({
      id,
      host: hostPort.slice(0, colon),
      port: Number(hostPort.slice(colon + 1)),
      role: flags.includes('slave') ? 'replica' : 'master',
      masterId: master === '-' ? null : master,
      flags,
      failing: flags.includes('fail') || flags.includes('fail?'),
      myself: flags.includes('myself'),
      linkState: linkState === 'connected' ? 'connected' : 'disconnected',
      slots: slotFields.filter((field) => !field.startsWith('[')).map(parseSlotField),
    })
  }
  return views
}

function parseSlotField(field: string): SlotRange {
  const [first, last = first] = field.split('-')
  return [Number(first), Number(last)]
}

/** One entry of a normalised `CLUSTER SLOTS` reply: a slot range, its master and its replicas. */
export interface SlotOwner {
  readonly first: number
  readonly last: number
  /** Client port of the master serving the range. */
  readonly masterPort: number
  /** Client ports of the replicas listed for the range, ascending. */
  readonly replicaPorts: readonly number[]
}

/**
 * Normalises a `CLUSTER SLOTS` reply to ranges sorted by first slot with replica ports sorted,
 * so two nodes' replies compare equal exactly when they agree on the slot map.
 */
export function parseClusterSlots(reply: RespValue): SlotOwner[] {
  if (!Array.isArray(reply)) throw new Error(`Unexpected CLUSTER SLOTS reply: ${JSON.stringify(reply)}`)
  const owners = reply.map((entry): SlotOwner => {
    if (!Array.isArray(entry)) throw new Error(`Unexpected CLUSTER SLOTS entry: ${JSON.stringify(entry)}`)
    const [first, last, master, ...replicas] = entry
    return {
      first: Number(first),
      last: Number(last),
      masterPort: nodePort(master),
      replicaPorts: replicas.map(nodePort).sort((a, b) => a - b),
    }
  })
  return owners.sort((a, b) => a.first - b.first)
}

function nodePort(node: RespValue | undefined): number {
  // Each node is [ip, port, id, metadata...].
  if (!Array.isArray(node)) throw new Error(`Unexpected CLUSTER SLOTS node: ${JSON.stringify(node)}`)
  return Number(node[1])
}

// INFO parsing and slot coverage are the stores' own (their deployment check reads the same
// replies); the testkit uses them as they are.
export { parseInfo, uncoveredSlots } from '@tiercache/redis-common'
