import type { ClusterNodeView, SlotRange } from './cluster-topology.js'
import { RedisReplyError, type RespValue, redisPipeline } from './resp-client.js'

/** Options of {@link migrateSlots}. */
export interface MoveSlotsOptions {
  /**
   * Slots opened (IMPORTING/MIGRATING) at once; each batch's keys are moved, then the batch is
   * handed over before the next opens. Default 32: windows of migration long enough for tests to
   * hit ASK and TRYAGAIN, few enough round trips to move 2,000 slots in seconds.
   */
  batchSlots?: number
  /** Keys per `MIGRATE`. Default 100. */
  keysPerMigrate?: number
}

/** The cluster as the mover needs it: the live view and a way to reach every master. */
export interface SlotMoveTarget {
  readonly host: string
  view(): Promise<ClusterNodeView[]>
}

const TIMEOUT_MS = 10_000

/**
 * Moves `slots` (each an inclusive range) to the master on `toPort` the way `redis-cli --cluster
 * reshard` does, under whatever load runs meanwhile: per slot `SETSLOT IMPORTING` on the target,
 * `SETSLOT MIGRATING` on the source, `GETKEYSINSLOT` + `MIGRATE ... KEYS` until the slot is empty
 * on the source, then `SETSLOT NODE` on the target, the source and every other master. Slots the
 * target already owns are skipped. Resolves with the number of slots moved.
 */
export async function migrateSlots(
  cluster: SlotMoveTarget,
  slots: readonly SlotRange[],
  toPort: number,
  options: MoveSlotsOptions = {},
): Promise<number> {
  const batchSlots = options.batchSlots ?? 32
  const keysPerMigrate = options.keysPerMigrate ?? 100
  const view = await cluster.view()
  const target = view.find((node) => node.port === toPort && node.role === 'master')
  if (target === undefined) throw new Error(`${cluster.host}:${toPort} is not a master of the cluster`)
  const masters = view.filter((node) => node.role === 'master' && !node.failing && node.slots.length > 0)
  const moves: { slot: number; source: ClusterNodeView }[] = []
  for (const [first, last] of slots) {
    for (let slot = first; slot <= last; slot++) {
      const source = masters.find((node) => node.slots.some(([a, b]) => slot >= a && slot <= b))
      if (source === undefined) throw new Error(`no master owns slot ${slot}`)
      if (source.port !== toPort) moves.push({ slot, source })
    }
  }
  const send = (port: number, commands: (string | number)[][]) =>
    redisPipeline(port, commands, { host: cluster.host, timeoutMs: TIMEOUT_MS }).then(checked)
  for (let start = 0; start < moves.length; start += batchSlots) {
    const batch = moves.slice(start, start + batchSlots)
    await send(
      toPort,
      batch.map(({ slot, source }) => ['CLUSTER', 'SETSLOT', slot, 'IMPORTING', source.id]),
    )
    for (const [port, group] of bySource(batch)) {
      await send(
        port,
        group.map((slot) => ['CLUSTER', 'SETSLOT', slot, 'MIGRATING', target.id]),
      )
    }
    for (const [port, group] of bySource(batch)) {
      // One GETKEYSINSLOT per slot of the batch in one round trip; MIGRATE only what was found.
      for (let pending = group; pending.length > 0; ) {
        const found = await send(
          port,
          pending.map((slot) => ['CLUSTER', 'GETKEYSINSLOT', slot, keysPerMigrate]),
        )
        const migrations = found.filter((keys): keys is string[] => Array.isArray(keys) && keys.length > 0)
        if (migrations.length > 0) {
          await send(
            port,
            migrations.map((keys) => ['MIGRATE', cluster.host, toPort, '', 0, TIMEOUT_MS, 'REPLACE', 'KEYS', ...keys]),
          )
        }
        pending = pending.filter((_, index) => Array.isArray(found[index]) && (found[index] as string[]).length > 0)
      }
    }
    // The target first, as redis-cli does: once the source says MOVED, the target must already own the slot.
    const handOver = batch.map(({ slot }) => ['CLUSTER', 'SETSLOT', slot, 'NODE', target.id])
    await send(toPort, handOver)
    for (const [port] of bySource(batch)) await send(port, handOver)
    for (const other of masters) {
      if (other.port !== toPort && !batch.some(({ source }) => source.port === other.port)) {
        await send(other.port, handOver).catch(() => undefined)
      }
    }
  }
  return moves.length
}

function bySource(batch: readonly { slot: number; source: ClusterNodeView }[]): Map<number, number[]> {
  const groups = new Map<number, number[]>()
  for (const { slot, source } of batch) groups.set(source.port, [...(groups.get(source.port) ?? []), slot])
  return groups
}

function checked(replies: RespValue[]): RespValue[] {
  for (const reply of replies) if (reply instanceof RedisReplyError) throw reply
  return replies
}
