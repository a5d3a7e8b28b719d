import type { HttpResponsePolicy } from './response-policy.js'

/** A header value as Node's `getHeaders()` returns it. */
export type HeaderValue = string | number | readonly string[]

/**
 * A response as a handler produced it, captured before it reached the socket: what the
 * framework adapters hand to the shared rules to decide whether (and what) to store.
 */
export interface CapturedResponse {
  readonly status: number
  /** Response headers with lower-case names, as `res.getHeaders()` returns them. */
  readonly headers: Readonly<Record<string, HeaderValue | undefined>>
  /** The whole body (empty for a HEAD request, whose body the framework never writes). */
  readonly body: Buffer
  /** What the handler decided about caching this response (`setCachePolicy`), when it did. */
  readonly policy?: HttpResponsePolicy
}

/** The first value of a header, as a string, or `undefined` when it is absent. */
export function firstHeader(value: HeaderValue | undefined): string | undefined {
  if (value === undefined) return undefined
  if (typeof value === 'string') return value
  if (typeof value === 'number') return String(value)
  return value[0]
}

/** Every value of a header joined with `, ` (how HTTP folds repeated fields), or `undefined`. */
export function joinedHeader(value: HeaderValue | undefined): string | undefined {
  if (value === undefined) return undefined
  if (typeof value === 'string') return value
  if (typeof value === 'number') return String(value)
  return value.join(', ')
}
