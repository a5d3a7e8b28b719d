import type { TierCache } from '../cache.js'
import type { Logger } from '../util/logger.js'
import { type InvalidateOnWriteOptions, resolveInvalidateOnWriteOptions } from './http-options.js'
import { consoleLogger, invalidateAfterWrite } from './invalidation.js'

/** Options of an adapter's `invalidateOnWrite(cache, options)` middleware (Express, Hono). */
export interface InvalidateOnWriteMiddlewareOptions<Req, Res> extends InvalidateOnWriteOptions<Req, Res> {
  /**
   * Where a failed invalidation is reported (pino-compatible). The response is sent anyway: the
   * write happened, and failing it would invite a client to repeat it. Default: `console.error`.
   */
  logger?: Logger
}

/** What a write middleware calls once a response's status is known; never rejects. */
export type WriteInvalidator<Req, Res> = (req: Req, res: Res, status: number) => Promise<void>

/**
 * The part every `invalidateOnWrite` middleware shares: validates `options` (throws
 * `INVALID_CONFIG` under `invalidateOnWrite options`), and returns what to call with a write's
 * request, response and status: on a 2xx it invalidates what `options.invalidates` names (see
 * {@link invalidateAfterWrite}); a failure is logged with the request's `method` and `url` (from
 * `where(req)`) under `component: 'invalidate-on-write'`.
 */
export function writeInvalidator<Req, Res>(
  cache: TierCache,
  options: InvalidateOnWriteMiddlewareOptions<Req, Res>,
  where: (req: Req) => { method: string; url: string },
): WriteInvalidator<Req, Res> {
  const { logger = consoleLogger, ...rest } = (options ?? {}) as InvalidateOnWriteMiddlewareOptions<Req, Res>
  const { invalidates } = resolveInvalidateOnWriteOptions<Req, Res>(rest, 'invalidateOnWrite options')
  const log = logger.child({ component: 'invalidate-on-write' })
  return (req, res, status) =>
    invalidateAfterWrite(
      cache,
      status,
      () => invalidates(req, res),
      (error) => log.error({ err: error, ...where(req) }, 'invalidation after a successful write failed'),
    )
}
