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
  /** Runs an L2 call whose failure is recorded (the entity's counters and log), never thrown; true when it succeeded. */
  attempt(operation: string, call: () => Promise<unknown>): Promise<boolean>
  /** Replaces the hot-key replicas of `ids` with tombstones; true when that succeeded. */
  tombstoneReplicas(ids: readonly string[]): Promise<boolean>
}

/**
 * Deletes value + lease (+ replica tombstones) in L2 and publishes the ids; true when all of
 * it succeeded. Value and lease go together (same slot), so a load that raced this write
 * cannot put its old value back.
 */
export async function propagateIds(target: IdPropagation, ids: readonly string[]): Promise<boolean> {
  const l2 = target.l2
  if (l2 === null) return true
  const keys: string[] = []
  for (const id of ids) keys.push(target.keys.valueKey(id), target.keys.lockKey(id))
  const [deleted, tombstoned] = await Promise.all([target.attempt('delete', () => l2.delete(keys)), target.tombstoneReplicas(ids)])
  const published = await publishIds(target, ids)
  return deleted && tombstoned && published
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
