import type { TimedValue } from './candidate.js'
import { assertOpen, type EntityCore } from './entity-core.js'
import { loadFresh } from './fleet-load.js'
import { readReplica, writeReplicas } from './hot-replicas.js'
import { acceptL2Hit } from './l1-fill.js'
import type { Loader } from './loader-types.js'
import type { Refresher } from './refresher.js'
import { readRemote } from './remote-read.js'
import { earlyRefreshFrom } from './xfetch.js'

/**
 * The read of one id after an L1 miss (the entity handle's `get` answered the L1 hit and runs
 * this under in-process single-flight): a hot key's replica, then the L2 value key, then a
 * stale value within grace (served while it refreshes), else a fleet-wide load.
 */
export async function readThrough(core: EntityCore, refresher: Refresher, id: string, loader: Loader<unknown>): Promise<unknown> {
  assertOpen(core)
  const readAt = performance.now()
  const startEpoch = core.stamps.current()
  const now = core.ctx.clock.now()
  const local = core.l1?.get(id)
  // Without L2, the L1 copy is the only copy: past its TTL it is stale, servable within grace.
  let stale: TimedValue | undefined = local !== undefined && local.staleUntil > now ? local : undefined
  if (core.l2 !== null) {
    const replica = core.hot?.isHot(id) ? core.hot.pickReplica(id) : undefined
    if (replica !== undefined) {
      const fromReplica = await readReplica(core, id, replica, startEpoch, readAt)
      if (fromReplica !== undefined) return fromReplica
    }
    const remote = await readRemote(core, id)
    if (replica !== undefined && remote.status === 'hit' && remote.candidate.freshUntil > now) {
      // The replica was missing (new, evicted, or tombstoned by an invalidation): repair it from the primary.
      void writeReplicas(core, id, remote.raw, remote.candidate, now, [replica], startEpoch)
    }
    if (remote.status === 'error') {
      // L2 cannot be asked; the L1 copy is past its L1 TTL but the value itself may still be
      // fresh. Only a healthy bus vouches for it (see busVouches). Otherwise the copy may have
      // missed an invalidation, and its L1 TTL, now past, is the bound on how stale it may be: it
      // is neither fresh nor stale-servable.
      if (local !== undefined && !busVouches(core)) stale = undefined
      else if (local !== undefined && local.valueFreshUntil > now) {
        core.counters.l1Hits++
        core.metrics.read('l1', id, readAt)
        return local.value
      }
    } else {
      // L2 answered: it is the truth. An L2 miss means expired or invalidated, so the L1 copy must not be served.
      stale = undefined
    }
    if (remote.status === 'hit') {
      const candidate = remote.candidate
      if (candidate.freshUntil > now) {
        acceptL2Hit(core, id, candidate, startEpoch, readAt)
        if (now >= earlyRefreshFrom(candidate.freshUntil, candidate.loadMs, core.policy.beta)) {
          refresher.considerEarly(id, loader, candidate, now)
        }
        return candidate.value
      }
      if (candidate.staleUntil > now && (stale === undefined || candidate.createdAt >= stale.createdAt)) stale = candidate
    }
  }
  if (stale !== undefined) return core.metrics.readWhenSettled('stale', id, readAt, refresher.serveStale(id, loader, stale))
  core.counters.misses++
  return core.metrics.readWhenSettled('miss', id, readAt, loadFresh(core, id, loader, startEpoch, undefined))
}

/**
 * Whether the invalidation bus vouches for L1 copies past their L1 TTL: its subscription is up
 * (every L1 copy was dropped when it last came back, and since then an invalidation anywhere
 * would have dropped them) and this instance's calls to the bus channel's shard succeed. When that
 * shard fails (its breaker is not closed), a subscription on it may be deaf without having ended
 * (a paused node keeps its connections open) and writers' messages wait in their outboxes.
 */
function busVouches(core: EntityCore): boolean {
  const bus = core.ctx.bus
  return bus?.isConnected() === true && core.ctx.l2?.breakerStateOf(bus.channel) === 'closed'
}
