import type { ModuleMetadata } from '@nestjs/common'
import { type CacheOptions, createCache, type Logger, type TierCache, TierCacheError } from '@tiercache/core'
import { type HttpCacheOptions, validateHttpCacheDefaults } from '@tiercache/core/http'
import type { NestRequest } from './nest-http.js'

/** Options of `TierCacheModule.forRoot(options)` (and what `forRootAsync`'s factory returns). */
export interface TierCacheModuleOptions {
  /**
   * The cache: one made by `createCache()`, or the options to make one (`createCache(options)`
   * runs when the module is created).
   */
  cache: TierCache | CacheOptions
  /**
   * Whether the module closes the cache on application shutdown (`app.close()`, or a signal with
   * `app.enableShutdownHooks()`), after the HTTP server has stopped taking requests. Default:
   * `true` for a cache the module made from options, `false` for a cache given to it, whose
   * owner may still use it after Nest stops (a worker, another app); pass `true` to hand it over.
   */
  closeOnShutdown?: boolean
  /** Cache options every `@Cached()` route starts from; a route's own options are merged over them. Default: none. */
  defaults?: Partial<HttpCacheOptions<NestRequest>>
  /**
   * pino-compatible logger: a failed invalidation after a write is logged at error, responses
   * passed through uncached at debug. Default: errors to the console, no debug lines.
   */
  logger?: Logger
}

/** Options of `TierCacheModule.forRootAsync()`: the options come from a factory, with its own imports and injections. */
export interface TierCacheModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  /** Makes the options, from the providers of `inject` (e.g. `ConfigService`). */
  useFactory: (...args: never[]) => TierCacheModuleOptions | Promise<TierCacheModuleOptions>
  /** Providers passed to `useFactory`, in order. Default: none. */
  // biome-ignore lint/suspicious/noExplicitAny: Nest's own type for injection tokens
  inject?: any[]
}

/** The module's options after validation, with the cache made and who closes it decided. */
export interface ResolvedModuleOptions {
  readonly cache: TierCache
  readonly closeOnShutdown: boolean
  readonly defaults: Partial<HttpCacheOptions<NestRequest>> | undefined
  readonly logger: Logger | undefined
}

function isCache(value: unknown): value is TierCache {
  const v = value as Partial<TierCache> | null
  return typeof v === 'object' && v !== null && typeof v.entity === 'function' && typeof v.invalidateTag === 'function'
}

/**
 * Validates the module's options once, when the module is created, and makes the cache when
 * given its options. Throws `INVALID_CONFIG` naming the bad option (and whatever `createCache`
 * throws for bad cache options).
 */
export function resolveModuleOptions(input: unknown): ResolvedModuleOptions {
  if (typeof input !== 'object' || input === null) {
    throw new TierCacheError('INVALID_CONFIG', 'TierCacheModule options: expected an object with a cache')
  }
  const options = input as Partial<TierCacheModuleOptions>
  const known = new Set(['cache', 'closeOnShutdown', 'defaults', 'logger'])
  const unknown = Object.keys(options).filter((key) => !known.has(key))
  if (unknown.length > 0) {
    throw new TierCacheError('INVALID_CONFIG', `TierCacheModule options: unknown option ${unknown.map((k) => `"${k}"`).join(', ')}`)
  }
  if (typeof options.cache !== 'object' || options.cache === null) {
    throw new TierCacheError('INVALID_CONFIG', 'TierCacheModule options.cache: expected a cache made by createCache() or its options')
  }
  if (options.closeOnShutdown !== undefined && typeof options.closeOnShutdown !== 'boolean') {
    throw new TierCacheError('INVALID_CONFIG', 'TierCacheModule options.closeOnShutdown: expected a boolean')
  }
  const given = isCache(options.cache)
  const cache = given ? (options.cache as TierCache) : createCache(options.cache as CacheOptions)
  return {
    cache,
    closeOnShutdown: options.closeOnShutdown ?? !given,
    defaults: options.defaults === undefined ? undefined : validateHttpCacheDefaults(options.defaults, 'TierCacheModule options.defaults'),
    logger: options.logger,
  }
}
