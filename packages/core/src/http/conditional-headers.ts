import type { IncomingHttpHeaders } from 'node:http'

/**
 * The conditional request headers the cache answers itself (with `304 Not Modified` from the
 * stored ETag): hidden from the handler while it produces the response the cache stores, so the
 * stored response is always a full `200`.
 */
export const CONDITIONAL_HEADERS = ['if-none-match', 'if-modified-since'] as const

/**
 * Headers of the client that triggered a background refresh that the internal request which
 * produces the refreshed response must not carry: conditional and range headers would shape
 * that response for one client (a `304`, a `206`), and `content-length` belongs to the original
 * body only.
 */
export const REFRESH_DROPPED_HEADERS: ReadonlySet<string> = new Set([
  'if-none-match',
  'if-modified-since',
  'if-match',
  'if-unmodified-since',
  'if-range',
  'range',
  'content-length',
])

/**
 * Removes the {@link CONDITIONAL_HEADERS} from `headers` (in place) and returns them, so the
 * adapter can put them back once the handler has produced the full response.
 */
export function hideConditionalHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const hidden: IncomingHttpHeaders = {}
  for (const name of CONDITIONAL_HEADERS) {
    if (headers[name] !== undefined) {
      hidden[name] = headers[name]
      delete headers[name]
    }
  }
  return hidden
}
