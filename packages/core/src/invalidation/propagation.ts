import { type Attempt, attemptDurable, unconfirmedOwners } from '../l2/durable-outcome.js'
import type { GuardedStore } from '../l2/guarded-store.js'
import { type KeyBuilder, tagStampKey } from '../l2/key-builder.js'
import type { Logger } from '../util/logger.js'
import type { InvalidationBus } from './invalidation-bus.js'

/** What propagating one entity's id invalidations needs. */
export interface IdPropagation {
  readonly entity: string
  /** The entity's L2 (with its timeout), or `null` without L2: then there is nothing to propagate. */
  readonly l2: GuardedStore | null
  readonly keys: KeyBuilder
  readonly bus: InvalidationBus | null
  /**
   * Whether deletions go through the store's `deleteDurably` (confirmed on a replica); from the
   * cache's `durableInvalidation` option and whether the store has it.
   */
  readonly durable: boolean
  /** Runs an L2 call whose failure is recorded (the entity's counters and log), never thrown; true when it succeeded. */
  readonly attempt: Attempt
  /**
   * Replaces the hot-key replicas of `ids` with tombstones (confirmed on a replica when
   * `durable`); resolves with the ids that need a retry.
   */
  tombstoneReplicas(ids: readonly string[]): Promise<readonly string[]>
}

const NONE: readonly string[] = Object.freeze([])

/**
 * Deletes value + lease (+ replica tombstones) in L2 and publishes the ids; resolves with the ids
 * that need a retry: all of them when a step failed, those whose deletion or tombstones no
 * replica confirmed (durable invalidation: a failover could bring them back), none when all is
 * done. Value and lease go together (same slot), so a load that raced this write cannot put its
 * old value back.
 */
export async function propagateIds(target: IdPropagation, ids: readonly string[]): Promise<readonly string[]> {
  const l2 = target.l2
  if (l2 === null) return NONE
  const [unconfirmed, untombstoned] = await Promise.all([deleteIds(target, l2, ids), target.tombstoneReplicas(ids)])
  const published = await publishIds(target, ids)
  if (unconfirmed === null || !published) return ids
  if (untombstoned.length === 0) return unconfirmed
  if (unconfirmed.length === 0) return untombstoned
  const retry = new Set([...unconfirmed, ...untombstoned])
  return ids.filter((id) => retry.has(id))
}

/** Deletes the value and lease keys of `ids`: the ids whose deletion is unconfirmed, or `null` when it failed. */
async function deleteIds(target: IdPropagation, l2: GuardedStore, ids: readonly string[]): Promise<readonly string[] | null> {
  const keys: string[] = []
  const owners: string[] = []
  for (const id of ids) {
    keys.push(target.keys.valueKey(id), target.keys.lockKey(id))
    owners.push(id, id)
  }
  if (!target.durable) return (await target.attempt('delete', () => l2.delete(keys))) ? NONE : null
  const outcome = await attemptDurable(target.attempt, 'delete', () => l2.deleteDurably(keys))
  if (outcome === null) return null
  return outcome.unconfirmed.length === 0 ? NONE : unconfirmedOwners(outcome, keys, owners)
}

/** Publishes invalidated ids on the bus; true when sent (or there is no bus). */
export function publishIds(target: IdPropagation, ids: readonly string[]): Promise<boolean> {
  const bus = target.bus
  return bus === null ? Promise.resolve(true) : target.attempt('publish', () => bus.publishKeys(target.entity, ids))
}

/** What propagating tag invalidations needs. */
export interface TagPropagation {
  readonly namespace: string
  readonly l2: GuardedStore | null
  readonly bus: InvalidationBus | null
  /** How long a tag stamp must live (ms): longer than any entry that may carry the tag. */
  readonly stampTtlMs: number
  readonly log: Logger
}

/** Writes the tags' stamps in L2 and publishes them on the bus; true when both succeeded (failures are logged). */
export async function propagateTags(target: TagPropagation, tags: readonly string[], stamp: number): Promise<boolean> {
  const l2 = target.l2
  if (l2 === null) return true
  let ok = true
  try {
    await l2.stampTags(
      tags.map((tag) => tagStampKey(target.namespace, tag)),
      stamp,
      target.stampTtlMs,
    )
  } catch (error) {
    ok = false
    target.log.warn({ err: error, tags }, 'tag invalidation could not reach L2; it will be retried')
  }
  try {
    await target.bus?.publishTags(tags, stamp)
  } catch (error) {
    ok = false
    target.log.warn({ err: error, tags }, 'tag invalidation could not be published on the bus; it will be retried')
  }
  return ok
}
