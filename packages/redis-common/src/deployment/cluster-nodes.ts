/** An inclusive range of hash slots, `[first, last]`. */
export type SlotRange = [first: number, last: number]

/** Redis Cluster has this many hash slots. */
export const CLUSTER_SLOT_COUNT = 16_384

/** One line of `CLUSTER NODES`. */
export interface ClusterNodeLine {
  id: string
  /** `host:port` (the client port). */
  address: string
  role: 'master' | 'replica'
  /** The id of the master a replica follows; `undefined` for masters. */
  masterId: string | undefined
  /** The node is flagged `fail` or `fail?` by the node that answered. */
  failing: boolean
  /** Slots the node serves (masters only); importing/migrating markers are left out. */
  slots: SlotRange[]
}

/** Parses the text of `CLUSTER NODES`. */
export function parseClusterNodes(text: string): ClusterNodeLine[] {
  const lines: ClusterNodeLine[] = []
  for (const line of text.split('\n')) {
    const fields = line.trim().split(' ')
    if (fields.length < 8) continue
    const [id = '', rawAddress = '', flagText = '', master = '-', , , , , ...slotFields] = fields
    // "ip:port@cport[,hostname]"
    const address = rawAddress.split(',')[0]?.split('@')[0] ?? ''
    const flags = flagText.split(',')
    if (flags.includes('noaddr') || flags.includes('handshake')) continue
    lines.push({
      id,
      address,
      role: flags.includes('slave') ? 'replica' : 'master',
      masterId: master === '-' ? undefined : master,
      failing: flags.includes('fail') || flags.includes('fail?'),
      slots: slotFields.filter((field) => !field.startsWith('[')).map(parseSlotField),
    })
  }
  return lines
}

/** The slots no range covers, as ranges; empty when every slot has a master. */
export function uncoveredSlots(ranges: readonly (readonly [first: number, last: number])[]): SlotRange[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0])
  const gaps: SlotRange[] = []
  let next = 0
  for (const [first, last] of sorted) {
    if (first > next) gaps.push([next, first - 1])
    next = Math.max(next, last + 1)
  }
  if (next < CLUSTER_SLOT_COUNT) gaps.push([next, CLUSTER_SLOT_COUNT - 1])
  return gaps
}

/** `0-5460, 10923-16383` */
export function formatSlotRanges(ranges: readonly SlotRange[]): string {
  return ranges.map(([first, last]) => (first === last ? String(first) : `${first}-${last}`)).join(', ')
}

/** How many slots the ranges hold. */
export function slotCount(ranges: readonly SlotRange[]): number {
  return ranges.reduce((sum, [first, last]) => sum + last - first + 1, 0)
}

function parseSlotField(field: string): SlotRange {
  const [first, last = first] = field.split('-')
  return [Number(first), Number(last)]
}
