import type { CapturedResponse } from './captured-response.js'

/**
 * Why a request or a response stays out of the shared cache. Request reasons lead to
 * `X-Cache: BYPASS`; response reasons to a `MISS` that stores nothing.
 */
export type UncacheableReason =
  // the response
  | 'status'
  | 'set-cookie'
  | 'cache-control'
  | 'vary'
  | 'content-encoding'
  | 'too-large'
  | 'declined'
  | 'stream'
  | 'aborted'
  | 'not-handled'
  | 'handler-error'
  | 'timeout'

/**
 * Thrown by a loader (and by the framework adapters' capture) when a response must not be
 * stored. The entity's `get` rethrows it to every request that joined the load, which then run
 * their own handler uncached: a response that is not stored is never shared either, since it may
 * belong to the one request that produced it (a `Set-Cookie`, an error).
 */
export class UncacheableResponse extends Error {
  override readonly name = 'UncacheableResponse'

  constructor(
    readonly reason: UncacheableReason,
    /** The response as the handler produced it, when there is one to relay to its own client. */
    readonly captured?: CapturedResponse,
  ) {
    super(`response not cached: ${reason}`)
  }
}
