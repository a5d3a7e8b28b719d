import { randomUUID } from 'node:crypto'
import type { EntityCore } from './entity-core.js'
import { announceLeaseEnd } from './lease-wakes.js'

/** The fleet-wide load lock of one id, and the token that proves this load holds it (the lease). */
export interface Lease {
  readonly lockKey: string
  readonly token: string
}

/**
 * What a write under a lease did with it: `written` (the value landed and the same atomic step
 * released the lock), `lease-lost` (an invalidation deleted the lock first; nothing to release),
 * `not-written` (nothing was written: the lock is still this load's and must be released).
 */
export type WriteOutcome = 'written' | 'lease-lost' | 'not-written'

/** A new lease for `id` (not yet taken). */
export function newLease(core: EntityCore, id: string): Lease {
  return { lockKey: core.keys.lockKey(id), token: randomUUID() }
}

/**
 * Tries to take `lease`: `held`, `busy` (another instance loads), or `unavailable` (L2 failed).
 * An attempt that failed here but took the lock in Redis later (it timed out while Redis was slow
 * or paused) is released as soon as that is known, and one whose reply was lost (its connection
 * closed) is released by token in case it took it: this load went on without the lock, so no
 * one else would release it, and other instances' readers would wait out `lockTtl` for it.
 */
export async function tryLock(core: EntityCore, lease: Lease): Promise<'held' | 'busy' | 'unavailable'> {
  try {
    const l2 = core.l2 as NonNullable<EntityCore['l2']>
    const held = await l2.acquireLock(lease.lockKey, lease.token, core.policy.lockTtlMs, () => void releaseLate(core, lease))
    return held ? 'held' : 'busy'
  } catch (error) {
    core.l2Failures.failed('acquireLock', error)
    return 'unavailable'
  }
}

/**
 * Runs `body` while this load holds `leases` (already taken with {@link tryLock}) and releases,
 * in one `finally`, every lease that `body` did not spend: the body reports each write's
 * outcome through `spent`, and a lease whose write was `written` or `lease-lost` needs no
 * release. A body that throws releases them all. Releases never reject: one that cannot reach L2
 * (its shard down, its breaker open) is retried with the invalidation outbox (every second, and
 * at once when the shard's breaker closes or its topology changes) until it succeeds or the lock
 * has expired by itself, so no reader of another instance waits out `lockTtl` for a lost release.
 */
export async function holdingLeases<T>(
  core: EntityCore,
  leases: readonly Lease[],
  body: (spent: (lease: Lease, outcome: WriteOutcome) => void) => Promise<T>,
): Promise<T> {
  const done = new Set<Lease>()
  try {
    return await body((lease, outcome) => {
      if (outcome === 'not-written') return
      done.add(lease)
      // Written (the value is there) or lost (an invalidation freed the lock): waiters may go on.
      announceLeaseEnd(core, lease.lockKey)
    })
  } finally {
    await Promise.all(leases.map((lease) => (done.has(lease) ? undefined : release(core, lease))))
  }
}

/** {@link holdingLeases} for one lease: `body` resolves with the value and its write's outcome. */
export function holdingLease<T>(core: EntityCore, lease: Lease, body: () => Promise<{ value: T; outcome: WriteOutcome }>): Promise<T> {
  return holdingLeases(core, [lease], async (spent) => {
    const result = await body()
    spent(lease, result.outcome)
    return result.value
  })
}

/**
 * Releases `lease` (a lock this load holds and did not spend), and announces it; never rejects.
 * A release that cannot reach L2 is retried with the invalidation outbox until it succeeds or
 * the lock has expired by itself.
 */
export async function release(core: EntityCore, lease: Lease): Promise<void> {
  if (await tryRelease(core, lease)) return
  // The lock expires by itself lockTtl after it was taken at the latest; retrying past that
  // could only delete a lock someone else took since (compare-and-delete makes it harmless).
  const expiresAt = core.ctx.clock.now() + core.policy.lockTtlMs
  core.ctx.outbox.addStep(`release:${lease.lockKey}:${lease.token}`, () =>
    core.ctx.clock.now() >= expiresAt ? Promise.resolve(true) : tryRelease(core, lease),
  )
}

/**
 * Releases `lease`, taken by an attempt that had failed here: straight to the store, past the
 * shard's breaker (its master has just answered), and through {@link release} when that fails.
 */
async function releaseLate(core: EntityCore, lease: Lease): Promise<void> {
  const l2 = core.l2 as NonNullable<EntityCore['l2']>
  if (await l2.releaseLateLock(lease.lockKey, lease.token)) announceLeaseEnd(core, lease.lockKey)
  else await release(core, lease)
}

/** One attempt at releasing `lease`: true when released (or there is no L2), false when L2 failed (recorded). */
async function tryRelease(core: EntityCore, lease: Lease): Promise<boolean> {
  const l2 = core.l2
  if (l2 === null) return true
  const released = await core.l2Failures.attempt('releaseLock', () => l2.releaseLock(lease.lockKey, lease.token))
  // The lock is free: a waiter takes it (or finds the value, when this load found it first) now.
  if (released) announceLeaseEnd(core, lease.lockKey)
  return released
}

/**
 * Releases the lock on `lockKey` whoever holds it (compare-and-delete with the token it holds now),
 * for a waiter that suspects it is a leftover of a failover: a lock whose release its old master
 * acknowledged but never replicated, which nobody will release. Never rejects.
 */
export async function releaseLeftover(core: EntityCore, lockKey: string): Promise<void> {
  const l2 = core.l2 as NonNullable<EntityCore['l2']>
  try {
    const token = await l2.get(lockKey)
    if (token === null) return
    await l2.releaseLock(lockKey, token)
    core.ctx.logger.info({ entity: core.policy.name, lock: lockKey }, 'released a lock its shard may have kept from before a failover')
    announceLeaseEnd(core, lockKey)
  } catch (error) {
    core.l2Failures.failed('releaseLock', error)
  }
}
