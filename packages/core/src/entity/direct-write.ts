import { type IdPropagation, publishIds } from '../invalidation/propagation.js'
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
  if (l2 !== null) {
    // A load in flight elsewhere holds a lease; deleting the lock makes its write fail, so it cannot overwrite this value.
    const [unlocked, untombstoned] = await Promise.all([
      core.l2Failures.attempt('delete', () => l2.delete([core.keys.lockKey(id)])),
      tombstoneReplicas(core, [id], ctx.durableInvalidation),
    ])
    if (!unlocked || untombstoned.length > 0) ctx.outbox.addIds(core.name, [id])
  }
  await writeValue(core, {
    id,
    value,
    loadMs: 0,
    startedAt: ctx.clock.now(),
    startEpoch: core.stamps.current(),
    l2: PLAIN_WRITE,
    policy: ENTITY_POLICY,
  })
  if (!(await publishIds(propagation, [id]))) ctx.outbox.addIds(core.name, [id])
}
