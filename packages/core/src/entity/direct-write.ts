import { type IdPropagation, propagateIds, publishIds } from '../invalidation/propagation.js'
import { attemptDurable } from '../l2/durable-outcome.js'
import type { GuardedStore } from '../l2/guarded-store.js'
import type { EngineContext } from './engine-context.js'
import type { EntityCore } from './entity-core.js'
import { tombstoneReplicas } from './hot-replicas.js'
import { ENTITY_POLICY } from './value-policy.js'
import { PLAIN_WRITE, writeValue } from './value-writer.js'

/**
 * `entity.set(id, value)` after the local state of `id` was dropped: the L2 write of a value the
 * application already has (no loader, no lease), then the bus, so other instances drop their
 * copies. A lock in flight elsewhere is deleted first so its load cannot overwrite this value;
 * what could not be done is left to the outbox.
 */
export async function writeDirectly(
  core: EntityCore,
  ctx: EngineContext,
  propagation: IdPropagation,
  id: string,
  value: unknown,
): Promise<void> {
  const l2 = core.l2
  let retry = false
  if (l2 !== null) {
    // A load in flight elsewhere holds a lease; deleting the lock makes its write fail, so it cannot overwrite this value.
    const [unlocked, untombstoned] = await Promise.all([
      core.l2Failures.attempt('delete', () => l2.delete([core.keys.lockKey(id)])),
      tombstoneReplicas(core, [id], ctx.durableInvalidation),
    ])
    retry = !unlocked || untombstoned.length > 0
  }
  const { outcome } = await writeValue(core, {
    id,
    value,
    loadMs: 0,
    startedAt: ctx.clock.now(),
    startEpoch: core.stamps.current(),
    l2: PLAIN_WRITE,
    policy: ENTITY_POLICY,
  })
  if (l2 !== null && outcome !== 'written') {
    // The SET failed, or the value cannot be cached (too large, not serializable, absent with
    // negative caching off): the old value must not stay in L2 for other instances to read.
    if ((await propagateIds(propagation, [id])).length > 0) ctx.outbox.addIds(core.name, [id])
    return
  }
  if (l2 !== null && propagation.durable && !(await writeConfirmed(core, propagation, l2, id))) retry = true
  if (retry) ctx.outbox.addIds(core.name, [id])
  if (!(await publishIds(propagation, [id]))) ctx.outbox.addIds(core.name, [id])
}

/**
 * Whether a replica has the value just written (durable invalidation): the lease key is deleted
 * durably after the SET's reply, and one replication stream carries both, so a replica that
 * acknowledges the delete has the SET. A write no replica confirmed goes to the outbox, whose
 * retry after the shard's failover deletes the old value the promoted replica still holds (the next
 * read loads the new one). Deleting the lease again also fails a load that took it meanwhile.
 */
async function writeConfirmed(core: EntityCore, propagation: IdPropagation, l2: GuardedStore, id: string): Promise<boolean> {
  const outcome = await attemptDurable(propagation.attempt, 'delete', () => l2.deleteDurably([core.keys.lockKey(id)]))
  return outcome !== null && outcome.unconfirmed.length === 0
}
