import type { Logger, TierCache } from '@tiercache/core'
import { applyInvalidation, type InvalidateOnWriteOptions, isSuccessStatus, resolveInvalidateOnWriteOptions } from '@tiercache/core/http'
import type { NextFunction, Request, RequestHandler, Response } from 'express'

/** Options of {@link invalidateOnWrite}. */
export interface ExpressInvalidateOnWriteOptions extends InvalidateOnWriteOptions<Request, Response> {
  /**
   * Where a failed invalidation is reported (pino-compatible). The response is sent anyway: the
   * write happened, and failing it would invite a client to repeat it. Default: `console.error`.
   */
  logger?: Logger
}

const consoleLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: (obj, msg) => console.warn(msg, obj),
  error: (obj, msg) => console.error(msg, obj),
  child: () => consoleLogger,
}

type Held = readonly ['write' | 'end' | 'flushHeaders', unknown[]]

/**
 * Express middleware for write routes (POST, PUT, PATCH, DELETE): once the handler has produced
 * a 2xx response, and before any of it is sent, invalidates what `invalidates(req, res)` names
 * across the fleet, so a client that reads its own write right after sees it. Never for other
 * statuses. `app.put('/products/:id', invalidateOnWrite(cache, { invalidates: (req) => ({ entities: { product: [req.params.id] } }) }), handler)`
 */
export function invalidateOnWrite(cache: TierCache, options: ExpressInvalidateOnWriteOptions): RequestHandler {
  const { logger = consoleLogger, ...rest } = (options ?? {}) as ExpressInvalidateOnWriteOptions
  const { invalidates } = resolveInvalidateOnWriteOptions<Request, Response>(rest, 'invalidateOnWrite options')
  const log = logger.child({ component: 'invalidate-on-write' })
  return function tiercacheInvalidateOnWrite(req: Request, res: Response, next: NextFunction): void {
    const original = { write: res.write, end: res.end, flushHeaders: res.flushHeaders }
    const held: Held[] = []
    let gate: Promise<void> | undefined
    const hold = (call: Held): void => {
      held.push(call)
      if (gate !== undefined) return
      const status = res.statusCode
      gate = (async () => {
        if (!isSuccessStatus(status)) return
        try {
          await applyInvalidation(cache, await invalidates(req, res))
        } catch (error) {
          log.error({ err: error, method: req.method, url: req.originalUrl }, 'invalidation after a successful write failed')
        }
      })().then(() => {
        res.write = original.write
        res.end = original.end
        res.flushHeaders = original.flushHeaders
        for (const [method, args] of held) (res[method] as (...a: unknown[]) => unknown)(...args)
      })
    }
    res.write = function write(...args: unknown[]) {
      hold(['write', args])
      return true
    } as Response['write']
    res.end = function end(this: Response, ...args: unknown[]) {
      hold(['end', args])
      return this
    } as Response['end']
    res.flushHeaders = function flushHeaders() {
      hold(['flushHeaders', []])
    }
    next()
  }
}
