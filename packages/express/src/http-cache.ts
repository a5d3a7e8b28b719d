import type { IncomingHttpHeaders } from 'node:http'
import type { TierCache } from '@tiercache/core'
import {
  type HttpCacheOptions,
  HttpCacheRoute,
  type HttpRequestInfo,
  hideConditionalHeaders,
  type LookupOutcome,
  type ResponsePlan,
} from '@tiercache/core/http'
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { dispatchInternal, internalRequests } from './internal-request.js'
import { ResponseCapture } from './response-capture.js'

/** Options of {@link httpCache}: the shared HTTP cache options, with Express's `Request`. */
export type ExpressHttpCacheOptions = HttpCacheOptions<Request>

// Requests an outer httpCache (e.g. a global app.use) has taken, so a route-level one passes them on.
const taken = new WeakSet<Request>()

/**
 * Express middleware that caches the responses of GET and HEAD routes in an entity of `cache`.
 * Use it on a route (`app.get('/products/:id', httpCache(cache, { entity: 'productPage' }), handler)`),
 * or as a default for many (`app.use(httpCache(cache, { entity: 'page', skip: (req) => ... }))`;
 * a request the default skips may be taken by a route-level `httpCache`).
 *
 * A hit is answered without running the handler. On a miss the handler runs once across the
 * fleet (the entity's single-flight): its response is held back, stored when the rules allow
 * it, and then sent to every request that waited for it, its own included. Responses carry
 * `X-Cache` (`HIT`, `MISS`, `STALE`, `BYPASS`), `Age` and a strong `ETag`; `If-None-Match`
 * gets a 304. Options are validated here, once: a bad one throws `INVALID_CONFIG`, an unknown
 * entity `UNKNOWN_ENTITY`.
 */
export function httpCache(cache: TierCache, options: ExpressHttpCacheOptions): RequestHandler {
  const route = new HttpCacheRoute<Request>(cache, options, 'httpCache options')
  return function tiercacheHttpCache(req: Request, res: Response, next: NextFunction): void {
    const internal = internalRequests.get(req)
    if (internal !== undefined) {
      setQuery(req, internal.query)
      next()
      return
    }
    if (taken.has(req)) {
      next()
      return
    }
    const info: HttpRequestInfo = { method: req.method, url: req.originalUrl, headers: req.headers }
    const decision = route.decide(info, req)
    if (decision.kind === 'skip') {
      next()
      return
    }
    taken.add(req)
    if (decision.kind === 'bypass') {
      res.setHeader('x-cache', 'BYPASS')
      next()
      return
    }
    setQuery(req, decision.query)
    let capture: ResponseCapture | undefined
    let hidden: IncomingHttpHeaders | undefined
    const lookup = route.lookup(decision.key, info, req, {
      runOwn: () => {
        hidden = hideConditionalHeaders(req.headers)
        capture = new ResponseCapture(res, 'own')
        next()
        return capture.result
      },
      runInternal: () => dispatchInternal(req, decision.query),
    })
    lookup.then(
      (outcome) => {
        if (hidden !== undefined) Object.assign(req.headers, hidden)
        try {
          answer(route, outcome, info, res, next, capture)
        } catch (error) {
          res.destroy(error instanceof Error ? error : undefined)
        }
      },
      (error: unknown) => {
        // lookup never rejects; this is a bug in the adapter, surfaced rather than left hanging.
        capture?.release()
        if (capture === undefined && !res.headersSent) next(error)
        else res.destroy(error instanceof Error ? error : undefined)
      },
    )
  }
}

function answer(
  route: HttpCacheRoute<Request>,
  outcome: LookupOutcome,
  info: HttpRequestInfo,
  res: Response,
  next: NextFunction,
  capture: ResponseCapture | undefined,
): void {
  capture?.release()
  switch (outcome.kind) {
    case 'cached':
      writePlan(res, route.plan(outcome.stored, info, outcome.cacheStatus))
      return
    case 'produced':
      writePlan(res, route.plan(outcome.stored, info, 'MISS'))
      return
    case 'unstored':
      // The handler's own response, as it made it. Without one, the client went away or the handler is streaming.
      if (outcome.captured !== undefined && !res.writableEnded) {
        res.setHeader('x-cache', 'MISS')
        res.end(outcome.captured.body)
      }
      return
    case 'pass':
      res.setHeader('x-cache', 'MISS')
      next()
      return
  }
}

function writePlan(res: Response, plan: ResponsePlan): void {
  if (res.writableEnded || res.destroyed) return
  for (const name of plan.removeHeaders) res.removeHeader(name)
  res.statusCode = plan.status
  for (const [name, value] of plan.headers) res.setHeader(name, value)
  if (plan.body === null) res.end()
  else res.end(plan.body)
}

/** The handler of a cached route sees only the query parameters that are part of the key. */
function setQuery(req: Request, query: Record<string, string>): void {
  // Express 5 computes req.query with a getter on its prototype; an own property shadows it.
  Object.defineProperty(req, 'query', { value: query, configurable: true, enumerable: true, writable: true })
}
