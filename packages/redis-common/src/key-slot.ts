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

/**
 * Reads `keys` with one `MGET` per hash slot, all issued in the same tick (a client that
 * pipelines then packs the `MGET`s bound for one node into one write, so a batch costs about one
 * round trip per node), and puts the replies back in input order.
 */
export async function mgetBySlot(
  keys: readonly string[],
  mget: (keys: string[]) => Promise<(string | null)[]>,
): Promise<(string | null)[]> {
  const groups = groupBySlot(keys)
  if (groups.size === 1) return mget(keys as string[])
  const values = new Array<string | null>(keys.length)
  await Promise.all(
    Array.from(groups.values(), async (positions) => {
      const group = positions.map((position) => keys[position] as string)
      const replies = await mget(group)
      for (let i = 0; i < positions.length; i++) values[positions[i] as number] = replies[i] ?? null
    }),
  )
  return values
}

/** Runs `command` once per hash slot of `keys` (e.g. `UNLINK`), all in the same tick. */
export async function perSlot(keys: readonly string[], command: (keys: string[]) => Promise<unknown>): Promise<void> {
  const groups = groupBySlot(keys)
  await Promise.all(Array.from(groups.values(), (positions) => command(positions.map((position) => keys[position] as string))))
}
