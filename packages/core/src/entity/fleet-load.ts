import { sleep } from '../util/timeouts.js'
import type { TimedValue } from './candidate.js'
import type { EntityCore } from './entity-core.js'
import { acceptL2Hit } from './l1-fill.js'
import { holdingLease, type Lease, newLease, release, releaseLeftover, tryLock } from './lease.js'
import { LeaseWakes } from './lease-wakes.js'
import { runLoader } from './load-runner.js'
import type { Loader } from './loader-types.js'
import { freshFromRemote, readRemote } from './remote-read.js'
import { type L2Write, NO_L2_WRITE, type WriteResult, writeValue } from './value-writer.js'

// Waiting for another instance's load without wakes: first poll after 4 ms, then 1.5x longer, at most 20 ms apart.
const WAIT_FIRST_POLL_MS = 4
const WAIT_MAX_POLL_MS = 20

// How long a waiter trusts a lock on a shard that changed topology less than `lockTtl` ago before it
// releases it as a possible leftover of the failover (see `releaseLeftover`): short enough that the
// read, its next poll and its own load stay well under a second.
const LEFTOVER_LOCK_WAIT_MS = 500

/**
 * Loads `id` once across the fleet: takes the L2 lock and loads, or, when another instance
 * holds it, serves `stale` if there is one, else waits for that instance's value. Without L2
 * (or when L2 cannot be asked) it loads and keeps the value in L1 only.
 */
export async function loadFresh(
  core: EntityCore,
  id: string,
  loader: Loader<unknown>,
  startEpoch: number,
  stale: TimedValue | undefined,
): Promise<unknown> {
  if (core.l2 === null) return (await loadAndWrite(core, id, loader, startEpoch, NO_L2_WRITE)).value
  const lease = newLease(core, id)
  // The read that sent us here and this lock are two steps: another instance may have written
  // the value (and released its lock) in between. Reading the value in the same pipeline as the
  // lock costs no extra round trip and avoids that second load.
  const [lock, landed] = await Promise.all([tryLock(core, lease), readRemote(core, id)])
  if (lock === 'held') {
    const fresh = landed.status === 'hit' && landed.candidate.freshUntil > core.ctx.clock.now()
    const served = fresh ? { value: acceptL2Hit(core, id, landed.candidate, startEpoch) } : undefined
    return loadUnderLease(core, id, loader, startEpoch, lease, served)
  }
  // Without L2 there is no lease to write under: load and keep the value in L1 only.
  if (lock === 'unavailable') return (await loadAndWrite(core, id, loader, startEpoch, NO_L2_WRITE)).value
  if (stale !== undefined) return stale.value
  core.counters.lockWaits++
  return waitForHolder(core, id, loader, startEpoch)
}

/**
 * Another instance is loading `id`: wait for its value. The waiter listens on the lock's wake
 * channel (`lease-wakes.ts`) and reads L2 as soon as the holder's lease ends, polling every
 * `lockPoll` in case that wake is lost; until the subscription is active, or without the bus, it
 * polls with backoff (4 ms, then 1.5x longer, at most 20 ms apart). When the lock frees without a
 * value (its holder failed or died), it takes the lock and loads. After `lockWait` without either,
 * it loads without the lock, and does not write L2 (there is no lease to write under).
 *
 * On a shard that changed topology less than `lockTtl` ago, the lock may be a leftover that nobody
 * holds (its release was lost with the failover): after waiting {@link LEFTOVER_LOCK_WAIT_MS} the
 * waiter releases it once and goes on. A real holder that took it after the failover and loads for
 * longer than that loses its lease (its value then reaches its caller but not L2), and the key is
 * loaded twice: a cost paid only in that window.
 */
export async function waitForHolder(core: EntityCore, id: string, loader: Loader<unknown>, startEpoch: number): Promise<unknown> {
  const wakes = LeaseWakes.listen(core, core.keys.lockKey(id))
  // The wait runs on real timers, so it is bounded in real time: the injected clock may be a
  // test's manual clock, which moves only when the test moves it.
  const startedAt = performance.now()
  const giveUpAt = startedAt + core.policy.lockWaitMs
  let delay = WAIT_FIRST_POLL_MS
  let leftoverChecked = false
  try {
    for (let left = core.policy.lockWaitMs; left > 0; left = giveUpAt - performance.now()) {
      if (wakes?.listening) await wakes.wait(Math.min(core.policy.lockPollMs, left))
      else {
        await (wakes === undefined ? sleep(delay) : wakes.wait(delay))
        delay = Math.min(delay * 1.5, WAIT_MAX_POLL_MS)
      }
      const found = await freshFromRemote(core, id, startEpoch)
      if (found !== undefined) return found.value
      const lease = newLease(core, id)
      const lock = await tryLock(core, lease)
      if (lock === 'held') {
        wakes?.stop()
        // The value may have landed between the read and the lock.
        const landed = await freshFromRemote(core, id, startEpoch)
        return loadUnderLease(core, id, loader, startEpoch, lease, landed)
      }
      if (lock === 'unavailable') break
      if (!leftoverChecked && performance.now() - startedAt >= LEFTOVER_LOCK_WAIT_MS) {
        leftoverChecked = true
        const l2 = core.l2 as NonNullable<EntityCore['l2']>
        if (l2.shardChangedWithin(lease.lockKey, core.policy.lockTtlMs)) await releaseLeftover(core, lease.lockKey)
      }
    }
  } finally {
    wakes?.stop()
  }
  return (await loadAndWrite(core, id, loader, startEpoch, NO_L2_WRITE)).value
}

/**
 * The one place a single id's lease is held: `served` (a fresh value found in L2 after taking
 * the lock, already taken as an L2 hit) is returned at once, its lease released in the
 * background (the release cannot fail the read, and waiting for it would add a round trip to a
 * value already in hand); otherwise the loader runs and its value is written under the lease,
 * which is released in `holdingLease`'s `finally` unless the write spent it.
 */
function loadUnderLease(
  core: EntityCore,
  id: string,
  loader: Loader<unknown>,
  startEpoch: number,
  lease: Lease,
  served: { readonly value: unknown } | undefined,
): Promise<unknown> {
  if (served !== undefined) {
    void release(core, lease)
    return Promise.resolve(served.value)
  }
  return holdingLease(core, lease, () => loadAndWrite(core, id, loader, startEpoch, { kind: 'lease', lease }))
}

/**
 * Runs the loader under its timeouts and writes its value as `write` says. After a hard timeout
 * the late value, if it comes, is still kept in this instance's L1 (never L2: its lease is gone),
 * checked against invalidations like any other (docs/decisions/0004).
 */
async function loadAndWrite(
  core: EntityCore,
  id: string,
  loader: Loader<unknown>,
  startEpoch: number,
  write: L2Write,
): Promise<WriteResult> {
  const loaded = await runLoader(core, id, loader, (late) =>
    writeValue(core, {
      id,
      value: late.value,
      loadMs: late.loadMs,
      startedAt: late.startedAt,
      startEpoch,
      l2: NO_L2_WRITE,
      policy: late.policy,
    }),
  )
  return writeValue(core, {
    id,
    value: loaded.value,
    loadMs: loaded.loadMs,
    startedAt: loaded.startedAt,
    startEpoch,
    l2: write,
    policy: loaded.policy,
  })
}
