import { isTierCacheError, type TierCacheError, type TierCacheErrorCode } from '@tiercache/core'

/**
 * What `run` throws, when it is a `TierCacheError` with `code`: the synchronous twin of
 * `rejectionOf` for the errors thrown at the edge (options checked when a store or a cache is
 * made). Throws an error saying what happened instead when `run` returns or throws something else.
 */
export function tierCacheErrorOf(code: TierCacheErrorCode, run: () => unknown): TierCacheError {
  try {
    run()
  } catch (error) {
    if (isTierCacheError(error, code)) return error
    throw new Error(`expected TierCacheError ${code}, got: ${String(error)}`, { cause: error })
  }
  throw new Error(`expected TierCacheError ${code}, nothing was thrown`)
}
