import { type HttpCacheKeyParts, type HttpRequestInfo, headerForKey, httpCacheKey, normaliseTarget } from './cache-key.js'
import { HTTP_DEFAULTS, type ResolvedHttpCacheOptions } from './http-options.js'

/**
 * Request headers a handler (or the framework, e.g. Express's `req.hostname` with `trust proxy`)
 * may reflect into a response, which a cache key does not hold unless the route varies on them.
 * A request carrying one is neither stored nor served from the shared cache (cache poisoning).
 */
export const POISONING_HEADERS: readonly string[] = [
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-prefix',
  'x-forwarded-port',
  'x-forwarded-server',
  'x-forwarded-scheme',
  'x-host',
  'x-original-host',
  'x-original-url',
  'x-rewrite-url',
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
  'forwarded',
]

/** Request headers that carry credentials: their requests are private unless the route keys by user. */
export const CREDENTIAL_HEADERS: readonly string[] = ['authorization', 'cookie']

/** Why a request bypasses the shared cache (`X-Cache: BYPASS`). */
export type BypassReason = 'url-too-long' | 'malformed-url' | 'poisoning-header' | 'credentials' | 'no-cache'

/** What to do with a request on a cached route. */
export type RequestDecision =
  /** Not for the cache at all (a method other than GET and HEAD, or the route's `skip`): do nothing, add no header. */
  | { readonly kind: 'skip' }
  /** Run the handler, store nothing, serve nothing from the cache. */
  | { readonly kind: 'bypass'; readonly reason: BypassReason; readonly header?: string }
  /** Look `key` up; the handler, when it runs, sees `query` as its query. */
  | { readonly kind: 'lookup'; readonly key: string; readonly parts: HttpCacheKeyParts; readonly query: Record<string, string> }

/**
 * Applies the request rules of a cached route, in order: method (GET and HEAD only) and `skip`, target
 * length and well-formedness, poisoning headers not varied on, credentials without a user key,
 * and `Cache-Control: no-cache` when the route allows it. Then builds the key.
 */
export function decideRequest<Req>(options: ResolvedHttpCacheOptions<Req>, info: HttpRequestInfo, req: Req): RequestDecision {
  const method = info.method.toUpperCase()
  if ((method !== 'GET' && method !== 'HEAD') || options.skip?.(req) === true) return { kind: 'skip' }
  if (info.url.length > HTTP_DEFAULTS.maxUrlLength) return { kind: 'bypass', reason: 'url-too-long' }
  const target = normaliseTarget(info.url, options.query)
  if (target === undefined) return { kind: 'bypass', reason: 'malformed-url' }
  const headers = info.headers
  const varied = options.varyHeaders
  for (const name of POISONING_HEADERS) {
    if (headers[name] !== undefined && !varied.includes(name)) return { kind: 'bypass', reason: 'poisoning-header', header: name }
  }
  let user: string | null = null
  if (options.key !== null) {
    const id = options.key(req)
    user = id === undefined || id === null || id === '' ? null : String(id)
  }
  if (user === null) {
    for (const name of CREDENTIAL_HEADERS) {
      if (headers[name] !== undefined && !varied.includes(name)) return { kind: 'bypass', reason: 'credentials', header: name }
    }
  }
  if (options.allowNoCache && asksNoCache(info)) return { kind: 'bypass', reason: 'no-cache' }
  const parts: HttpCacheKeyParts = {
    method,
    // HTTP/2 carries the host as :authority.
    host: (headerForKey(headers, 'host') ?? headerForKey(headers, ':authority') ?? '').toLowerCase(),
    path: target.path,
    query: target.query,
    headers: varied.map((name) => [name, headerForKey(headers, name)] as const),
    user,
  }
  return { kind: 'lookup', key: httpCacheKey(parts), parts, query: target.queryObject }
}

const NO_CACHE = /(?:^|,)\s*(?:no-cache|no-store|max-age\s*=\s*0)\s*(?:,|$)/i

/** True when the client asks for a response from the origin: `Cache-Control: no-cache`, `no-store`, `max-age=0`, or `Pragma: no-cache`. */
export function asksNoCache(info: HttpRequestInfo): boolean {
  const cacheControl = headerForKey(info.headers, 'cache-control')
  if (cacheControl !== null && NO_CACHE.test(cacheControl)) return true
  const pragma = headerForKey(info.headers, 'pragma')
  return pragma !== null && /no-cache/i.test(pragma)
}
