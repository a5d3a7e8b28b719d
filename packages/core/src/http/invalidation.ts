import type { TierCache } from '../cache.js'
import { TierCacheError } from '../util/errors.js'
import type { Logger } from '../util/logger.js'

/** What a write changed: ids per entity, and tags. Both optional; ids and tags may be one string or a list. */
export interface Invalidation {
  readonly entities?: Readonly<Record<string, string | readonly string[]>>
  readonly tags?: string | readonly string[]
}

/**
 * Computes what a successful write invalidates, from the framework's request and response.
 * Returning nothing invalidates nothing.
 */
export type Invalidates<Req = unknown, Res = unknown> = (
  req: Req,
  res: Res,
) => Invalidation | undefined | null | Promise<Invalidation | undefined | null>

/**
 * The default logger of invalidate-on-write, where no logger is given: warnings and errors to
 * the console, since a failed invalidation after a write must not go unnoticed.
 */
export const consoleLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: (obj, msg) => console.warn(msg, obj),
  error: (obj, msg) => console.error(msg, obj),
  child: () => consoleLogger,
}

/** True for the statuses after which a write invalidates: 2xx. */
export function isSuccessStatus(status: number): boolean {
  return status >= 200 && status < 300
}

/**
 * Invalidates every id and tag of `invalidation` across the fleet, all at once, and resolves when
 * every tier and the bus have been told. Throws `INVALID_CONFIG` for a malformed invalidation,
 * `UNKNOWN_ENTITY` for an entity the cache does not have, `INVALID_KEY` for a bad id or tag.
 */
export async function applyInvalidation(cache: TierCache, invalidation: Invalidation | undefined | null): Promise<void> {
  if (invalidation === undefined || invalidation === null) return
  if (typeof invalidation !== 'object') throw malformed(invalidation)
  const work: Promise<void>[] = []
  const entities = invalidation.entities
  if (entities !== undefined) {
    if (typeof entities !== 'object' || entities === null) throw malformed(invalidation)
    for (const [name, ids] of Object.entries(entities)) work.push(cache.entity(name).invalidate(ids))
  }
  if (invalidation.tags !== undefined) work.push(cache.invalidateTag(invalidation.tags))
  await Promise.all(work)
}

/**
 * What every adapter's invalidate-on-write does once a write route's response is known: when
 * `status` is 2xx, invalidates what `compute()` names (see {@link applyInvalidation}); a failure
 * goes to `onError` rather than to the client, since the write happened and failing its response
 * would invite a client to repeat it. Never rejects.
 */
export async function invalidateAfterWrite(
  cache: TierCache,
  status: number,
  compute: () => Invalidation | undefined | null | Promise<Invalidation | undefined | null>,
  onError: (error: unknown) => void,
): Promise<void> {
  if (!isSuccessStatus(status)) return
  try {
    await applyInvalidation(cache, await compute())
  } catch (error) {
    onError(error)
  }
}

function malformed(value: unknown): TierCacheError {
  return new TierCacheError(
    'INVALID_CONFIG',
    `invalidates must return { entities?: { [entity]: id | ids }, tags?: tag | tags } or nothing, got ${value === null ? 'null' : typeof value}`,
  )
}
