import { type TierCache, TierCacheError } from '@tiercache/core'
import {
  type CapturedResponse,
  CONDITIONAL_HEADERS,
  type HttpCacheOptions,
  HttpCacheRoute,
  type HttpRequestInfo,
  responsePolicyOf,
  UncacheableResponse,
} from '@tiercache/core/http'
import type { Context, MiddlewareHandler } from 'hono'
import { dispatchInternal, type FetchingApp, internalJobs } from './internal-request.js'
import { captureResponse, headersObject, responseOfCaptured, responseOfPlan, targetOf } from './response-body.js'

/** Options of {@link httpCache}: the shared HTTP cache options, with Hono's `Context` as the request, and the app. */
export interface HonoHttpCacheOptions extends HttpCacheOptions<Context> {
  /**
   * The application you serve (the root one, when routes live in `app.route()` sub-apps): a stale
   * response is refreshed in the background by an internal request through its `fetch`, after the
   * client that got the stale response was answered. Required.
   */
  app: FetchingApp
}

// Requests an outer httpCache (e.g. app.use('*', ...)) has taken, so a route-level one passes them on.
const taken = new WeakSet<Request>()

/**
 * Hono middleware that caches the responses of GET and HEAD routes in an entity of `cache`:
 * `app.get('/products/:id', httpCache(cache, { entity: 'productPage', app }), handler)`, or for
 * many routes with `app.use(...)` and `skip`. The rules are those of `@tiercache/express` (one
 * implementation, in `@tiercache/core/http`): a hit is answered without running the handler; on a
 * miss the handler runs once across the fleet and its response is stored when the rules allow it;
 * `X-Cache`, `Age`, a strong `ETag` and 304s. Options are validated here, once (`INVALID_CONFIG`,
 * `UNKNOWN_ENTITY`).
 */
export function httpCache(cache: TierCache, options: HonoHttpCacheOptions): MiddlewareHandler {
  const { app, ...rest } = (options ?? {}) as Partial<HonoHttpCacheOptions>
  if (typeof app !== 'object' || app === null || typeof app.fetch !== 'function') {
    throw new TierCacheError(
      'INVALID_CONFIG',
      'httpCache options.app: expected the Hono application you serve (its fetch refreshes stale responses)',
    )
  }
  const route = new HttpCacheRoute<Context>(cache, rest, 'httpCache options')
  const limit = route.options.maxBodyBytes
  return async function tiercacheHttpCache(c, next) {
    const raw = c.req.raw
    const job = internalJobs.get(raw)
    if (job !== undefined) {
      c.req.raw = withQuery(raw, job.query, false)
      await next()
      c.req.raw = raw
      const read = await captureResponse(c.res, raw.method, limit)
      if ('error' in read) {
        job.failure = read.error
        if (read.passThrough !== undefined) replaceResponse(c, read.passThrough)
      } else {
        job.captured = { ...read.captured, policy: responsePolicyOf(c) }
        replaceResponse(c, responseOfCaptured(read.captured, c.res.headers))
      }
      return
    }
    if (taken.has(raw)) return next()
    const info: HttpRequestInfo = { method: raw.method, url: targetOf(raw.url), headers: headersObject(raw.headers) }
    const decision = route.decide(info, c)
    if (decision.kind === 'skip') return next()
    taken.add(raw)
    if (decision.kind === 'bypass') {
      await next()
      c.header('x-cache', 'BYPASS')
      return
    }
    c.req.raw = withQuery(raw, decision.query, false)
    const outcome = await route.lookup(decision.key, info, c, {
      runOwn: async (): Promise<CapturedResponse> => {
        c.req.raw = withQuery(raw, decision.query, true)
        // A client that goes away while the handler runs fails the load at once ('aborted'), as the
        // Node adapters' capture does: its response may be cut short, so it is never stored.
        const abort = rejectOnAbort(raw.signal)
        try {
          await Promise.race([next(), abort.promise])
        } finally {
          abort.dispose()
        }
        c.req.raw = withQuery(raw, decision.query, false)
        const read = await captureResponse(c.res, raw.method, limit)
        // The client went away (the server aborts the request's signal): its response may be cut short, so it is not stored.
        if (raw.signal.aborted) throw new UncacheableResponse('aborted')
        if ('captured' in read) return { ...read.captured, policy: responsePolicyOf(c) }
        if (read.passThrough !== undefined) replaceResponse(c, read.passThrough)
        throw read.error
      },
      runInternal: () => dispatchInternal(app, c, decision.query, limit),
    })
    switch (outcome.kind) {
      case 'cached':
        replaceResponse(c, responseOfPlan(route.plan(outcome.stored, info, outcome.cacheStatus), c.res.headers))
        break
      case 'produced':
        replaceResponse(c, responseOfPlan(route.plan(outcome.stored, info, 'MISS'), c.res.headers))
        break
      case 'unstored':
        // Without a captured response the handler's own one (a stream) is still in place, unread.
        if (outcome.captured !== undefined) replaceResponse(c, responseOfCaptured(outcome.captured, c.res.headers))
        else c.header('x-cache', 'MISS')
        break
      case 'pass':
        await next()
        c.header('x-cache', 'MISS')
        break
    }
    c.req.raw = raw
  }
}

/**
 * The request the handler of a cached route sees: only the query parameters that are part of the
 * key (so `c.req.query()` cannot read others), and, while it produces the response to store,
 * without the conditional headers, which are the cache's to answer.
 */
function withQuery(raw: Request, query: Record<string, string>, hideConditional: boolean): Request {
  const url = new URL(raw.url)
  url.search = new URLSearchParams(query).toString()
  const headers = new Headers(raw.headers)
  if (hideConditional) for (const name of CONDITIONAL_HEADERS) headers.delete(name)
  return new Request(url, { method: raw.method, headers, signal: raw.signal })
}

/** Sets the response Hono sends, as is: Hono's `c.res =` would merge the previous response's headers back in. */
function replaceResponse(c: Context, response: Response): void {
  c.res = undefined
  c.res = response
}

/** A promise that rejects with `UncacheableResponse('aborted')` once `signal` aborts; `dispose` stops listening. */
function rejectOnAbort(signal: AbortSignal): { promise: Promise<never>; dispose(): void } {
  let onAbort = (): void => undefined
  const promise = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(new UncacheableResponse('aborted'))
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
  })
  // The race may settle through the handler first; the rejection must not go unhandled then.
  promise.catch(() => undefined)
  return { promise, dispose: () => signal.removeEventListener('abort', onAbort) }
}
