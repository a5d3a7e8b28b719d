import type { EntityPolicy } from '../config/entity-policy.js'
import type { ValuePolicy } from './value-policy.js'

/**
 * What a loader can decide about the value it loads, once it has seen it (adaptive caching):
 * `set` overrides this value's `ttl`, `l1` TTL, `grace` or tags, `skip` declines caching it. The
 * loaded value is returned to the caller whatever the loader decides. Calls after the loader
 * settled are ignored (and logged).
 */
export interface LoaderContext {
  /** The entity's resolved policy: the defaults this value gets for what `set` leaves out. */
  readonly policy: EntityPolicy
  /**
   * Overrides the entity's policy for this value; a later call overrides the fields it names
   * again. Never throws: a bad field is logged as `INVALID_CONFIG` naming it, and the value is
   * returned but not cached.
   */
  set(policy: ValuePolicy): void
  /** Declines caching this value: it is returned to its callers and written nowhere (no L1, no L2, no hot-key replicas). Wins over `set`. */
  skip(): void
}

/** {@link LoaderContext} of a batch loader: the same decisions, per id of the batch. */
export interface BatchLoaderContext {
  /** The entity's resolved policy. */
  readonly policy: EntityPolicy
  /** `set` for the value of `id` (an id of this batch; another id is logged as `INVALID_CONFIG` and ignored). */
  set(id: string, policy: ValuePolicy): void
  /** `skip` for the value of `id`. */
  skip(id: string): void
}

/**
 * Loads the value of one id from the source of truth; `null`/`undefined` means absent. `ctx`
 * lets it decide this value's policy after seeing it; loaders that take only `id` ignore it.
 */
export type Loader<R> = (id: string, ctx: LoaderContext) => R | Promise<R>

/**
 * Loads the values of many ids in one call. Returns either an array aligned with `ids`
 * (same length and order; `null`/`undefined` for an absent id) or a `Map` from id to value
 * (a missing id is absent). `ctx` decides policies per id.
 */
export type BatchLoader<R> = (
  ids: string[],
  ctx: BatchLoaderContext,
) => Promise<readonly R[] | ReadonlyMap<string, R>> | readonly R[] | ReadonlyMap<string, R>
