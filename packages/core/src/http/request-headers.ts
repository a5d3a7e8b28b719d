import type { IncomingHttpHeaders } from 'node:http'

/** Conditional headers are the cache's to answer: hidden from the handler while it produces the response to store. */
export const CONDITIONAL_HEADERS: readonly string[] = ['if-none-match', 'if-modified-since']

/**
 * Request headers an internal refresh request does not copy from the request that triggered it:
 * the client's conditional and range headers must not shape the refreshed response, and it has no body.
 */
export const DROPPED_INTERNAL_HEADERS: ReadonlySet<string> = new Set([
  'if-none-match',
  'if-modified-since',
  'if-match',
  'if-unmodified-since',
  'if-range',
  'range',
  'content-length',
])

/**
 * Removes the {@link CONDITIONAL_HEADERS} from `headers` (in place, so the handler and the
 * framework's own ETag handling do not see them) and returns them, for {@link restoreHeaders}.
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

/** Puts back headers that {@link hideConditionalHeaders} took away. */
export function restoreHeaders(headers: IncomingHttpHeaders, hidden: IncomingHttpHeaders): void {
  Object.assign(headers, hidden)
}

/** The headers an internal refresh request carries: those of the triggering request but the {@link DROPPED_INTERNAL_HEADERS}. */
export function internalRequestHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const kept: Record<string, string | string[]> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !DROPPED_INTERNAL_HEADERS.has(name)) kept[name] = value
  }
  return kept
}
