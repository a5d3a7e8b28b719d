import { type Attempt, attemptDurable, unconfirmedOwners } from '../l2/durable-outcome.js'
import type { Candidate } from './candidate.js'
import type { EntityCore } from './entity-core.js'
import { acceptL2Hit } from './l1-fill.js'
import { parseRemote } from './remote-read.js'

// Hot-key replicas live at most this long (ms), so a replica a topology change left behind is
// gone soon; a copy is written only from a read at most REPLICA_MAX_LAG_MS old, and an
// invalidation's tombstone outlives that lag.
const REPLICA_TTL_MS = 10_000
const REPLICA_MAX_LAG_MS = 500
const REPLICA_TOMBSTONE_MS = 2_000

/**
 * Reads a hot key from one of its replicas; `undefined` when the replica has no fresh value.
 * A fresh replica value is an L2 hit (timed from `readAt`).
 */
export async function readReplica(core: EntityCore, id: string, replicaKey: string, startEpoch: number, readAt: number): Promise<unknown> {
  let raw: string | null
  try {
    raw = await (core.l2 as NonNullable<EntityCore['l2']>).getHot(replicaKey)
  } catch (error) {
    core.l2Failures.failed('get', error)
    return undefined
  }
  const read = await parseRemote(core, id, raw, replicaKey)
  if (read.status !== 'hit' || read.candidate.freshUntil <= core.ctx.clock.now()) return undefined
  return acceptL2Hit(core, id, read.candidate, startEpoch, readAt)
}

/**
 * Copies a hot key's envelope to its replicas. A copy made from a read older than
 * REPLICA_MAX_LAG_MS is dropped: invalidation tombstones last REPLICA_TOMBSTONE_MS, longer
 * than that, so a replica write can never land after an invalidation it did not see.
 */
export async function writeReplicas(
  core: EntityCore,
  id: string,
  raw: string,
  candidate: Candidate,
  readAt: number,
  replicaKeys: readonly string[],
  startEpoch: number,
): Promise<void> {
  const l2 = core.l2
  if (l2 === null || replicaKeys.length === 0) return
  const now = core.ctx.clock.now()
  const ttlMs = Math.min(candidate.freshUntil - now, REPLICA_TTL_MS)
  if (now - readAt > REPLICA_MAX_LAG_MS || ttlMs <= 0 || core.stamps.invalidatedSince(id, startEpoch)) return
  await Promise.all(replicaKeys.map((key) => core.l2Failures.attempt('setReplica', () => l2.setReplica(key, raw, ttlMs))))
}

const NONE: readonly string[] = Object.freeze([])

/**
 * Replaces the replicas of `ids` with tombstones; resolves with the ids that need a retry: all of
 * them when that failed, those whose tombstones no replica confirmed (`durable`: a failover of
 * that master would bring the old copy back, to be read until its TTL), none when it is done.
 */
export async function tombstoneReplicas(core: EntityCore, ids: readonly string[], durable: boolean): Promise<readonly string[]> {
  const l2 = core.l2
  const hot = core.hot
  if (l2 === null || hot === null || !hot.replicates) return NONE
  const keys: string[] = []
  const owners: string[] = []
  for (const id of ids) {
    for (const key of hot.replicaKeys(id)) {
      keys.push(key)
      owners.push(id)
    }
  }
  if (keys.length === 0) return NONE
  if (!durable) return (await core.l2Failures.attempt('tombstone', () => l2.tombstone(keys, REPLICA_TOMBSTONE_MS))) ? NONE : ids
  const attempt: Attempt = (operation, call) => core.l2Failures.attempt(operation, call)
  const outcome = await attemptDurable(attempt, 'tombstone', () => l2.tombstoneDurably(keys, REPLICA_TOMBSTONE_MS))
  if (outcome === null) return ids
  return outcome.unconfirmed.length === 0 ? NONE : unconfirmedOwners(outcome, keys, owners)
}
