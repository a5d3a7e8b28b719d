import calculateSlot from 'cluster-key-slot'

/**
 * The Redis Cluster hash slot (0..16383) of a key, honouring `{hash tags}`.
 *
 * This is the very function ioredis routes commands with, so a group we build can never
 * disagree with the node ioredis sends it to.
 */
export function keySlot(key: string): number {
  return calculateSlot(key)
}

/**
 * Groups the positions of `keys` by hash slot, keeping input order inside each group.
 *
 * Multi-key commands (`MGET`, `UNLINK`) fail with `CROSSSLOT` in a cluster unless every key
 * shares one slot, so batches are split on slot lines; the positions let callers put replies
 * back in input order.
 */
export function groupBySlot(keys: readonly string[]): Map<number, number[]> {
  const groups = new Map<number, number[]>()
  for (let i = 0; i < keys.length; i++) {
    const slot = calculateSlot(keys[i] as string)
    const group = groups.get(slot)
    if (group === undefined) groups.set(slot, [i])
    else group.push(i)
  }
  return groups
}
