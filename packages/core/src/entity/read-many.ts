import type { SingleFlight } from '../util/single-flight.js'
import { assertOpen, type EntityCore } from './entity-core.js'
import { waitForHolder } from './fleet-load.js'
import { acceptL2Hit } from './l1-fill.js'
import { holdingLeases, type Lease, newLease, tryLock } from './lease.js'
import { alignBatch, type Loaded, runBatchLoader } from './load-runner.js'
import { BatchLoadContext, type LoadContext } from './loader-context.js'
import type { BatchLoader, Loader } from './loader-types.js'
import type { Refresher } from './refresher.js'
import { parseRemote } from './remote-read.js'
import { ENTITY_POLICY, type ValueDecision } from './value-policy.js'
import { NO_L2_WRITE, writeValue } from './value-writer.js'

/**
 * `getMany`: L1 first; ids another read of this process is loading join that load; the rest go
 * through {@link readThroughMany} as one batch, registered in single-flight id by id.
 */
export async function readMany(
  core: EntityCore,
  flights: SingleFlight<unknown>,
  refresher: Refresher,
  ids: readonly string[],
  batchLoader: BatchLoader<unknown>,
): Promise<unknown[]> {
  const results = new Array<unknown>(ids.length)
  const waiting = new Map<string, Promise<unknown>>()
  const fetching = new Set<string>()
  const now = core.ctx.clock.now()
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as string
    core.hot?.record(id, now)
    if (waiting.has(id) || fetching.has(id)) continue
    const entry = core.l1?.get(id)
    if (entry !== undefined && entry.freshUntil > now) {
      core.counters.l1Hits++
      results[i] = entry.value
      continue
    }
    const pending = flights.get(id)
    if (pending !== undefined) {
      waiting.set(id, pending)
    } else {
      fetching.add(id)
    }
  }
  const toFetch = [...fetching]
  if (toFetch.length > 0) {
    const batch = readThroughMany(core, refresher, toFetch, batchLoader)
    toFetch.forEach((id, index) => {
      const one = batch.then((values) => values[index])
      flights.set(id, one)
      waiting.set(id, one)
    })
    await batch
  }
  for (let i = 0; i < ids.length; i++) {
    const pending = waiting.get(ids[i] as string)
    if (pending !== undefined) results[i] = await pending
  }
  return results
}

/**
 * The L1 misses of a `getMany`: one L2 batch read; stale values served while they refresh; then
 * fleet-wide single-flight per id: ids whose lock this instance takes are loaded in one batch
 * loader call, ids another instance is loading are waited for like a single `get`.
 */
async function readThroughMany(
  core: EntityCore,
  refresher: Refresher,
  ids: string[],
  batchLoader: BatchLoader<unknown>,
): Promise<unknown[]> {
  assertOpen(core)
  const readAt = performance.now()
  const startEpoch = core.stamps.current()
  const values = new Array<unknown>(ids.length)
  // One id alone (waiting for another instance, a stale refresh): the batch loader's context for it is this load's own.
  const single: Loader<unknown> = async (id, ctx) =>
    alignBatch(core.name, [id], await batchLoader([id], new BatchLoadContext(core, new Map([[id, ctx as LoadContext]]))))[0]
  const missing = await readRemoteBatch(core, refresher, ids, values, single, readAt, startEpoch)
  if (missing.length === 0) return values
  core.counters.misses += missing.length
  const leases = new Map<number, Lease | null>()
  const waits: Promise<void>[] = []
  if (core.l2 !== null) {
    await Promise.all(
      missing.map(async (index) => {
        const id = ids[index] as string
        const lease = newLease(core, id)
        const lock = await tryLock(core, lease)
        if (lock === 'busy') {
          core.counters.lockWaits++
          waits.push(
            waitForHolder(core, id, single, startEpoch).then((v) => {
              values[index] = v
            }),
          )
        } else {
          leases.set(index, lock === 'held' ? lease : null)
        }
      }),
    )
  } else {
    for (const index of missing) leases.set(index, null)
  }
  const toLoad = [...leases.keys()].sort((a, b) => a - b)
  if (toLoad.length > 0) {
    const held = [...leases.values()].filter((lease): lease is Lease => lease !== null)
    const loadIds = toLoad.map((i) => ids[i] as string)
    // After a hard timeout the late values still fill this instance's L1, never L2 (docs/decisions/0004).
    const keepLate = (late: Loaded<unknown[], ValueDecision[]>): Promise<unknown> =>
      Promise.all(
        loadIds.map((id, k) =>
          writeValue(core, {
            id,
            value: late.value[k],
            loadMs: late.loadMs,
            startedAt: late.startedAt,
            startEpoch,
            l2: NO_L2_WRITE,
            policy: late.policy[k] ?? ENTITY_POLICY,
          }),
        ),
      )
    await holdingLeases(core, held, async (spent) => {
      const loaded = await runBatchLoader(core, loadIds, batchLoader, keepLate)
      await Promise.all(
        toLoad.map(async (index, k) => {
          const lease = leases.get(index) ?? null
          const written = await writeValue(core, {
            id: ids[index] as string,
            value: loaded.value[k],
            loadMs: loaded.loadMs,
            startedAt: loaded.startedAt,
            startEpoch,
            l2: lease === null ? NO_L2_WRITE : { kind: 'lease', lease },
            policy: loaded.policy[k] ?? ENTITY_POLICY,
          })
          if (lease !== null) spent(lease, written.outcome)
          values[index] = written.value
        }),
      )
    })
  }
  await Promise.all(waits)
  for (const index of missing) core.metrics.read('miss', ids[index] as string, readAt)
  return values
}

/**
 * Reads `ids` from L2 in one batch into `values`: fresh values are L2 hits, stale ones within
 * grace are served while they refresh. Returns the indexes still missing (all of them without
 * L2 or when the batch read failed).
 */
async function readRemoteBatch(
  core: EntityCore,
  refresher: Refresher,
  ids: string[],
  values: unknown[],
  single: Loader<unknown>,
  readAt: number,
  startEpoch: number,
): Promise<number[]> {
  const l2 = core.l2
  const all = ids.map((_, i) => i)
  if (l2 === null) return all
  let raws: (string | null)[]
  try {
    raws = await l2.getMany(ids.map((id) => core.keys.valueKey(id)))
  } catch (error) {
    core.l2Failures.failed('getMany', error)
    return all
  }
  const now = core.ctx.clock.now()
  const reads = await Promise.all(ids.map((id, i) => parseRemote(core, id, raws[i] ?? null)))
  const missing: number[] = []
  const stale: Promise<void>[] = []
  reads.forEach((read, i) => {
    const id = ids[i] as string
    if (read.status === 'hit' && read.candidate.freshUntil > now) {
      values[i] = acceptL2Hit(core, id, read.candidate, startEpoch, readAt)
    } else if (read.status === 'hit' && read.candidate.staleUntil > now) {
      stale.push(
        core.metrics.readWhenSettled('stale', id, readAt, refresher.serveStale(id, single, read.candidate)).then((v) => {
          values[i] = v
        }),
      )
    } else {
      missing.push(i)
    }
  })
  await Promise.all(stale)
  return missing
}
