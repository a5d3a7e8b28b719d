import { type TierCache, TierCacheError } from '@tiercache/core'
import { type HttpCacheOptions, validateHttpCacheDefaults } from '@tiercache/core/http'
import type { FastifyRequest } from 'fastify'

/** Options of `fastify.register(tiercache, options)`. */
export interface TiercachePluginOptions {
  /** The cache routes store their responses in and invalidate; also decorated as `fastify.cache` and `request.cache`. */
  cache: TierCache
  /**
   * Options every GET/HEAD route registered after the plugin starts from. With an `entity`, every
   * such route is cached unless its `config.cache` is `false`; a route's `config.cache` object is
   * merged over these. Without one, only routes with `config.cache` are cached. Default: none.
   */
  defaults?: Partial<HttpCacheOptions<FastifyRequest>>
  /**
   * The hook that answers hits: `onRequest` (default; before body parsing and validation, the
   * cheapest) or `preHandler` (after your own `onRequest`/`preValidation` hooks, e.g. when the
   * route's `key` needs the user that an authentication `preHandler` sets).
   */
  hook?: 'onRequest' | 'preHandler'
}

/** {@link TiercachePluginOptions} after validation. */
export interface ResolvedPluginOptions {
  readonly cache: TierCache
  readonly defaults: Partial<HttpCacheOptions<FastifyRequest>> | undefined
  readonly hook: 'onRequest' | 'preHandler'
}

/** Validates the plugin's options once, at registration; throws `INVALID_CONFIG` naming the bad one. */
export function resolvePluginOptions(input: unknown): ResolvedPluginOptions {
  const options = (input ?? {}) as Partial<TiercachePluginOptions>
  const cache = options.cache
  if (typeof cache !== 'object' || cache === null || typeof cache.entity !== 'function' || typeof cache.invalidateTag !== 'function') {
    throw new TierCacheError('INVALID_CONFIG', 'tiercache options.cache: expected a cache made by createCache()')
  }
  const hook = options.hook ?? 'onRequest'
  if (hook !== 'onRequest' && hook !== 'preHandler') {
    throw new TierCacheError('INVALID_CONFIG', `tiercache options.hook: expected 'onRequest' or 'preHandler', got ${JSON.stringify(hook)}`)
  }
  // Fastify's own register options may ride along.
  const known = new Set(['cache', 'defaults', 'hook', 'prefix', 'logLevel', 'logSerializers'])
  const unknown = Object.keys(options).filter((key) => !known.has(key))
  if (unknown.length > 0) {
    throw new TierCacheError(
      'INVALID_CONFIG',
      `tiercache options: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}`,
    )
  }
  const defaults =
    options.defaults === undefined ? undefined : validateHttpCacheDefaults<FastifyRequest>(options.defaults, 'tiercache options.defaults')
  return { cache, defaults, hook }
}
