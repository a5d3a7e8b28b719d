import { loadTracing, traceContext, traced } from '../metrics/tracing.js'
import { TierCacheError } from '../util/errors.js'
import { raceTimeout } from '../util/timeouts.js'
import type { EntityCore } from './entity-core.js'
import { BatchLoadContext, LoadContext } from './loader-context.js'
import type { BatchLoader, Loader } from './loader-types.js'
import type { ValueDecision } from './value-policy.js'

/** A loader's result with its times (clock ms) and what the loader decided about its value(s) (`P`). */
export interface Loaded<V, P> {
  readonly value: V
  /** When the loader was called. */
  readonly startedAt: number
  /** How long it took. */
  readonly loadMs: number
  /** The loader's decision through its context: one, or one per id of a batch. */
  readonly policy: P
}

/**
 * Runs one id's loader under the hard timeout (`hardTimeout`), counting and timing it. A loader
 * error is counted in `loadErrors` and rethrown. Past the hard timeout it throws
 * `LOADER_TIMEOUT`, and the load goes on: `onLate` gets its value if it ever arrives (the caller
 * decides what a late value is still good for; see docs/decisions/0004).
 */
export async function runLoader(
  core: EntityCore,
  id: string,
  loader: Loader<unknown>,
  onLate: (late: Loaded<unknown, ValueDecision>) => unknown,
): Promise<Loaded<unknown, ValueDecision>> {
  const clock = core.ctx.clock
  const startedAt = clock.now()
  core.counters.loads++
  const loadAt = performance.now()
  const context = new LoadContext(core, id)
  let loading: Promise<unknown>
  try {
    loading = loadTracing.hasSubscribers
      ? traced(loadTracing, loadContext(core, id), async () => loader(id, context))
      : Promise.resolve(loader(id, context))
  } catch (error) {
    loading = Promise.reject(error)
  }
  let raced: Awaited<ReturnType<typeof raceTimeout<unknown>>>
  try {
    raced = await raceTimeout(loading, core.policy.hardTimeoutMs)
  } catch (error) {
    core.counters.loadErrors++
    core.metrics.load([id], loadAt, error)
    throw error
  }
  if (!raced.done) {
    core.counters.loadTimeouts++
    const about = { entity: core.name, id }
    core.metrics.load(
      [id],
      loadAt,
      new TierCacheError('LOADER_TIMEOUT', `entity "${core.name}" id "${id}": the loader passed hardTimeout`, about),
    )
    loading.then((value) => onLate({ value, startedAt, loadMs: clock.now() - startedAt, policy: context.seal() })).catch(() => {})
    throw new TierCacheError(
      'LOADER_TIMEOUT',
      `entity "${core.name}" id "${id}": the loader took longer than hardTimeout ${core.policy.hardTimeoutMs} ms and there is no stale value to serve`,
      about,
    )
  }
  core.metrics.load([id], loadAt, undefined)
  return { value: raced.value, startedAt, loadMs: clock.now() - startedAt, policy: context.seal() }
}

/**
 * Runs a batch loader for `ids` under the hard timeout and aligns its result with `ids`. Like
 * {@link runLoader}: a loader that throws, or returns something that does not align with `ids`,
 * is counted in `loadErrors` (docs/decisions/0005); past the hard timeout it throws
 * `LOADER_TIMEOUT` (counted in `loadTimeouts` only) and `onLate` gets the late values if they
 * ever arrive (docs/decisions/0004).
 */
export async function runBatchLoader(
  core: EntityCore,
  ids: readonly string[],
  batchLoader: BatchLoader<unknown>,
  onLate: (late: Loaded<unknown[], ValueDecision[]>) => unknown,
): Promise<Loaded<unknown[], ValueDecision[]>> {
  const context = BatchLoadContext.of(core, ids)
  const clock = core.ctx.clock
  const startedAt = clock.now()
  core.counters.loads++
  const loadAt = performance.now()
  const failed = (error: unknown): never => {
    core.counters.loadErrors++
    core.metrics.load(ids, loadAt, error)
    throw error
  }
  const loading = loadTracing.hasSubscribers
    ? traced(loadTracing, loadContext(core, ids), async () => batchLoader(ids as string[], context))
    : Promise.resolve().then(() => batchLoader(ids as string[], context))
  let raced: Awaited<ReturnType<typeof raceTimeout<unknown>>>
  try {
    raced = await raceTimeout(loading, core.policy.hardTimeoutMs)
  } catch (error) {
    return failed(error)
  }
  if (!raced.done) {
    core.counters.loadTimeouts++
    const error = new TierCacheError(
      'LOADER_TIMEOUT',
      `entity "${core.name}": the batch loader took longer than hardTimeout ${core.policy.hardTimeoutMs} ms`,
      { entity: core.name },
    )
    core.metrics.load(ids, loadAt, error)
    loading
      .then((loaded) =>
        onLate({ value: alignBatch(core.name, ids, loaded), startedAt, loadMs: clock.now() - startedAt, policy: context.seal(ids) }),
      )
      .catch(() => {})
    throw error
  }
  let value: unknown[]
  try {
    value = alignBatch(core.name, ids, raced.value)
  } catch (error) {
    return failed(error)
  }
  core.metrics.load(ids, loadAt, undefined)
  return { value, startedAt, loadMs: clock.now() - startedAt, policy: context.seal(ids) }
}

/** Turns a batch loader's array or Map into values aligned with `ids`; throws `INVALID_LOADER_RESULT` otherwise. */
export function alignBatch(entity: string, ids: readonly string[], loaded: unknown): unknown[] {
  if (loaded instanceof Map) return ids.map((id) => loaded.get(id))
  if (Array.isArray(loaded) && loaded.length === ids.length) return loaded
  throw new TierCacheError(
    'INVALID_LOADER_RESULT',
    `entity "${entity}": a batch loader must return an array aligned with its ids (length ${ids.length}) or a Map from id to value, got ${Array.isArray(loaded) ? `an array of length ${loaded.length}` : typeof loaded}`,
    { entity },
  )
}

/** The `tiercache:load` context of a load of `ids` (ids in it only with the `tracing.ids` option). */
function loadContext(core: EntityCore, ids: string | readonly string[]) {
  return traceContext('load', core.ctx.namespace, core.name, core.ctx.traceIds, ids)
}
