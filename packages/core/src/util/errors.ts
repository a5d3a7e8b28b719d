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

/** What a {@link TierCacheError} may carry besides its code and message. */
export interface TierCacheErrorOptions {
  /** The underlying error, when there is one. */
  cause?: unknown
  /** The entity the error is about, when it is about one. */
  entity?: string
  /** The id the error is about, when it is about one. */
  id?: string
}

/**
 * The one error class of tiercache. `code` is stable across versions; `message` says what
 * went wrong and what to do about it; `cause` carries the underlying error when there is one.
 * `entity` and `id` name what the error is about when it is about one entity or one id, so a
 * caller or a log pipeline need not parse the message; they are absent otherwise.
 */
export class TierCacheError extends Error {
  override readonly name = 'TierCacheError'
  readonly code: TierCacheErrorCode
  /** The entity the error is about, or `undefined`. */
  readonly entity: string | undefined
  /** The id the error is about, or `undefined`. */
  readonly id: string | undefined

  constructor(code: TierCacheErrorCode, message: string, options?: TierCacheErrorOptions) {
    super(`${code}: ${message}`, options !== undefined && 'cause' in options ? { cause: options.cause } : undefined)
    this.code = code
    this.entity = options?.entity
    this.id = options?.id
  }
}

/** True when `error` is a {@link TierCacheError}, optionally with the given code. */
export function isTierCacheError(error: unknown, code?: TierCacheErrorCode): error is TierCacheError {
  return error instanceof TierCacheError && (code === undefined || error.code === code)
}
