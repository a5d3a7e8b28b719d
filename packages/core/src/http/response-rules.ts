import { type CapturedResponse, joinedHeader } from './captured-response.js'
import type { ResolvedHttpCacheOptions } from './http-options.js'
import type { UncacheableReason } from './uncacheable.js'

const PRIVATE = /(?:^|,)\s*(?:private|no-store|no-cache)\b/i

/**
 * Applies the response rules of a cached route: returns why `response` must not be stored, or
 * `null` when it may be. Not stored: a status outside the route's list (5xx always), any
 * `Set-Cookie`, `Cache-Control: private`, `no-store` or `no-cache` (this cache does not
 * revalidate), a `Vary` on a header the key does not hold (or `Vary: *`), an encoded body
 * when the key does not vary on `Accept-Encoding`, and a body over `maxBodyBytes`.
 */
export function unstorableReason<Req>(options: ResolvedHttpCacheOptions<Req>, response: CapturedResponse): UncacheableReason | null {
  if (response.status >= 500 || !options.statuses.has(response.status)) return 'status'
  const headers = response.headers
  if (headers['set-cookie'] !== undefined) return 'set-cookie'
  const cacheControl = joinedHeader(headers['cache-control'])
  if (cacheControl !== undefined && PRIVATE.test(cacheControl)) return 'cache-control'
  const encoding = joinedHeader(headers['content-encoding'])?.trim().toLowerCase()
  const encoded = encoding !== undefined && encoding !== '' && encoding !== 'identity'
  if (encoded && !options.varyHeaders.includes('accept-encoding')) return 'content-encoding'
  const vary = joinedHeader(headers.vary)
  if (vary !== undefined) {
    for (const part of vary.split(',')) {
      const name = part.trim().toLowerCase()
      if (name === '') continue
      if (name === '*') return 'vary'
      // An identity body is the same for every Accept-Encoding (compression middleware often sets the Vary anyway).
      if (name === 'accept-encoding' && !encoded) continue
      if (!options.varyHeaders.includes(name)) return 'vary'
    }
  }
  if (response.body.length > options.maxBodyBytes) return 'too-large'
  return null
}
