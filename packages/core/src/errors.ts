/**
 * Every error code tiercache throws. Closed on purpose: callers switch on `code`, so a new
 * code is a visible change of the public contract.
 */
export type TierCacheErrorCode =
  | 'INVALID_CONFIG'
  | 'INVALID_KEY'
  | 'UNKNOWN_ENTITY'
  | 'VALUE_NOT_SERIALIZABLE'
  | 'VALUE_TOO_LARGE'
  | 'INVALID_LOADER_RESULT'
  | 'LOADER_TIMEOUT'
  | 'L2_TIMEOUT'
  | 'L2_UNAVAILABLE'
  | 'L2_AUTH'
  | 'CACHE_CLOSED'

/**
 * The one error class of tiercache. `code` is stable across versions; `message` says what
 * went wrong and what to do about it; `cause` carries the underlying error when there is one.
 */
export class TierCacheError extends Error {
  override readonly name = 'TierCacheError'
  readonly code: TierCacheErrorCode

  constructor(code: TierCacheErrorCode, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options)
    this.code = code
  }
}

/** True when `error` is a {@link TierCacheError}, optionally with the given code. */
export function isTierCacheError(error: unknown, code?: TierCacheErrorCode): error is TierCacheError {
  return error instanceof TierCacheError && (code === undefined || error.code === code)
}
