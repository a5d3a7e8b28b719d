import type { HttpRequestInfo } from './cache-key.js'
import { ifNoneMatchMatches } from './etag.js'
import { type StoredResponse, storedBody } from './stored-response.js'

/** The `X-Cache` header: served from the cache (`HIT`), stale within grace (`STALE`), produced now (`MISS`), or kept out of it (`BYPASS`). */
export type CacheStatus = 'HIT' | 'MISS' | 'STALE' | 'BYPASS'

/** A response to write, framework-neutral: the adapters copy it onto Express's `res` or Fastify's `reply`. */
export interface ResponsePlan {
  readonly status: number
  readonly headers: readonly (readonly [string, string | readonly string[]])[]
  /** Headers to remove from what the response already holds (a 304 carries no content headers). */
  readonly removeHeaders: readonly string[]
  /** The body, or `null` for none (HEAD, 304). */
  readonly body: Buffer | null
}

// RFC 9110 §15.4.5: a 304 carries the headers a 200 would have had among these.
const NOT_MODIFIED_HEADERS = new Set(['cache-control', 'content-location', 'expires', 'vary', 'last-modified'])
const CONTENT_HEADERS = ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-disposition']

/**
 * Plans the response of a stored entry: `304 Not Modified` when `If-None-Match` matches its ETag
 * (2xx entries only), else the stored status, headers and body. Either way with `ETag`,
 * `X-Cache` and `Age` (whole seconds since the handler produced it).
 */
export function planStoredResponse(stored: StoredResponse, request: HttpRequestInfo, cacheStatus: CacheStatus, now: number): ResponsePlan {
  const age = String(Math.max(0, Math.floor((now - stored.storedAt) / 1000)))
  const common: [string, string][] = [
    ['x-cache', cacheStatus],
    ['age', age],
  ]
  if (stored.etag !== null) common.push(['etag', stored.etag])
  const inm = request.headers['if-none-match']
  if (stored.status >= 200 && stored.status < 300 && ifNoneMatchMatches(inm, stored.etag)) {
    const headers: (readonly [string, string | readonly string[]])[] = [...common]
    for (const [name, value] of Object.entries(stored.headers)) if (NOT_MODIFIED_HEADERS.has(name)) headers.push([name, value])
    return { status: 304, headers, removeHeaders: CONTENT_HEADERS, body: null }
  }
  const headers: (readonly [string, string | readonly string[]])[] = [...Object.entries(stored.headers), ...common]
  headers.push(['content-length', String(stored.length)])
  const head = request.method.toUpperCase() === 'HEAD'
  return { status: stored.status, headers, removeHeaders: [], body: head ? null : storedBody(stored) }
}
