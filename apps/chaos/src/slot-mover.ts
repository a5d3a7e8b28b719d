import { type ClusterNodeView, type RedisCluster, RedisReplyError, type RespValue, redisPipeline } from '@tiercache/testkit'

const MIGRATE_TIMEOUT_MS = 5_000
const KEYS_PER_MIGRATE = 100

/**
 * Moves `slots` from `source` to `target` the way `redis-cli --cluster reshard` does: the target
 * marks them IMPORTING, the source MIGRATING, their keys move in batches with MIGRATE, then every
 * master is told the new owner. All the slots are half-moved at once while their keys travel, so
 * clients see ASK redirections and TRYAGAIN for multi-key commands over the whole range: the
 * window chaos tests want. The marking steps go in one pipeline per node so a move of hundreds
 * of slots takes a few round trips, not thousands.
 */
export async function moveSlots(
  cluster: RedisCluster,
  source: ClusterNodeView,
  target: ClusterNodeView,
  slots: readonly number[],
): Promise<void> {
  const masters = await cluster.masters()
  await pipeline(
    target,
    slots.map((slot) => ['CLUSTER', 'SETSLOT', slot, 'IMPORTING', source.id]),
  )
  await pipeline(
    source,
    slots.map((slot) => ['CLUSTER', 'SETSLOT', slot, 'MIGRATING', target.id]),
  )
  for (const slot of slots) {
    for (;;) {
      const [keys] = await pipeline(source, [['CLUSTER', 'GETKEYSINSLOT', slot, KEYS_PER_MIGRATE]])
      if (!Array.isArray(keys) || keys.length === 0) break
      await pipeline(source, [['MIGRATE', target.host, target.port, '', 0, MIGRATE_TIMEOUT_MS, 'REPLACE', 'KEYS', ...(keys as string[])]])
    }
  }
  // The target first, so that it serves the slots before the source starts redirecting to it.
  const assign = slots.map((slot) => ['CLUSTER', 'SETSLOT', slot, 'NODE', target.id])
  await pipeline(target, assign)
  await pipeline(source, assign)
  await Promise.all(masters.filter((m) => m.id !== source.id && m.id !== target.id).map((m) => pipeline(m, assign).catch(() => [])))
}

/** The slots `node` serves, as a flat list. */
export function slotsOf(node: ClusterNodeView): number[] {
  return node.slots.flatMap(([first, last]: readonly [number, number]) => Array.from({ length: last - first + 1 }, (_, i) => first + i))
}

async function pipeline(node: ClusterNodeView, commands: (string | number)[][]): Promise<RespValue[]> {
  const replies = await redisPipeline(node.port, commands, { host: node.host, timeoutMs: MIGRATE_TIMEOUT_MS * 2 })
  const failure = replies.find((reply) => reply instanceof RedisReplyError)
  if (failure !== undefined) throw failure
  return replies
}
