import { createCache, type Logger } from '@tiercache/core'
import type { RedisRemoteStore } from '../redis-remote-store.js'

/** What to invalidate and how the CLI's cache stands in for a service's. */
export interface FleetInvalidation {
  namespace: string
  /** The entity of `ids`; `undefined` for tags alone. */
  entity: string | undefined
  ids: readonly string[]
  tags: readonly string[]
  /**
   * The longest `ttl` + `grace` of any entity in the namespace, ms. The CLI's cache stamps tags for
   * twice that, as a service's cache does for its own entities; a stamp never shortens, so a service
   * that stamps the same tag later can only make it live longer.
   */
  lifetimeMs: number
  /** Bound on each L2 call and on waiting for the bus subscription, ms. */
  timeoutMs: number
}

/** The outcome: `failures` empty when every delete, tombstone, stamp and bus message went through. */
export interface InvalidationOutcome {
  namespace: string
  entity: string | undefined
  ids: string[]
  tags: string[]
  /** The bus channel the message went out on. */
  channel: string
  failures: string[]
}

// The entity the CLI's cache declares when only tags are invalidated (a cache needs no entity for that).
const TAGS_ONLY_ENTITY = 'tiercache-cli'
// Every master gets a tombstone: a service's hot-key copies are the first `replicas` of the same
// deterministic candidate list (one per master), so 64 (the option's maximum) covers any setting.
const ALL_MASTERS = 64

/**
 * Invalidates through a real cache on `store`, so the work is exactly `entity.invalidate(ids)` and
 * `cache.invalidateTag(tags)`: value keys and their leases deleted, hot-key copies tombstoned on
 * every master, tag stamps raised, and one bus message per call that every running instance
 * applies to its L1. The cache is closed (and with it the store) before this resolves.
 *
 * A cache retries, in the background, an invalidation that could not reach L2 or the bus; a
 * command cannot wait for that, so every such failure is reported instead: the cache counts it
 * (`l2Errors`) and logs it at `warn`, and both are read here.
 */
export async function invalidateFleet(store: RedisRemoteStore, job: FleetInvalidation): Promise<InvalidationOutcome> {
  const failures: string[] = []
  const entity = job.entity ?? TAGS_ONLY_ENTITY
  const cache = createCache({
    namespace: job.namespace,
    l2: store,
    l2Timeout: job.timeoutMs,
    logger: failureLogger(failures),
    entities: { [entity]: { ttl: job.lifetimeMs, l1: false, hot: { replicas: ALL_MASTERS } } },
  })
  try {
    await deadline(cache.ready(), Math.max(job.timeoutMs, 10_000), 'the invalidation bus did not subscribe')
    if (job.ids.length > 0) {
      await cache.entity(entity).invalidate(job.ids)
      const errors = cache.stats()[entity]?.l2Errors ?? 0
      if (errors > 0 && failures.length === 0) failures.push(`${errors} L2 calls failed`)
    }
    if (job.tags.length > 0) await cache.invalidateTag(job.tags)
  } finally {
    await cache.close()
  }
  return {
    namespace: job.namespace,
    entity: job.entity,
    ids: [...job.ids],
    tags: [...job.tags],
    channel: `{${job.namespace}}!bus`,
    failures,
  }
}

/** A logger that keeps the message of every `warn` and `error`: each is a part of the invalidation that failed. */
function failureLogger(failures: string[]): Logger {
  const keep = (obj: object, msg?: string) => {
    const err = (obj as { err?: unknown }).err
    failures.push(`${msg ?? 'failed'}${err instanceof Error ? `: ${err.message}` : ''}`)
  }
  const logger: Logger = { debug: () => {}, info: () => {}, warn: keep, error: keep, child: () => logger }
  return logger
}

function deadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
