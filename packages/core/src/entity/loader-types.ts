/** Loads the value of one id from the source of truth; `null`/`undefined` means absent. */
export type Loader<R> = (id: string) => R | Promise<R>

/**
 * Loads the values of many ids in one call. Returns either an array aligned with `ids`
 * (same length and order; `null`/`undefined` for an absent id) or a `Map` from id to value
 * (a missing id is absent).
 */
export type BatchLoader<R> = (ids: string[]) => Promise<readonly R[] | ReadonlyMap<string, R>> | readonly R[] | ReadonlyMap<string, R>
