import type { HttpCacheOptions, Invalidation } from '@tiercache/core/http'
import type { NestRequest } from './nest-http.js'

/** The metadata key of `@Cached()`: the route's cache options, or `false` to opt out of a controller-wide `@Cached()`. */
export const CACHED_METADATA = '@tiercache/nestjs:cached'

/** The metadata key of `@Invalidates()`: what a successful write invalidates. */
export const INVALIDATES_METADATA = '@tiercache/nestjs:invalidates'

/** Cache options of one route or controller: the shared HTTP cache options, the entity optional when the module's `defaults` name it. */
export type CachedOptions<Req = NestRequest> = Partial<HttpCacheOptions<Req>>

/**
 * What a successful write invalidates, from the platform's request and response (Express or
 * Fastify) and the value the handler returned (`undefined` when it writes its own response
 * with `@Res()`). Returning nothing invalidates nothing.
 */
export type NestInvalidates<Req = NestRequest, Res = unknown> = (
  req: Req,
  res: Res,
  result: unknown,
) => Invalidation | undefined | null | Promise<Invalidation | undefined | null>
