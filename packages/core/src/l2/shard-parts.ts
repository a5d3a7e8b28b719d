import type { CircuitBreaker } from './circuit-breaker.js'
import type { ShardBreakers } from './shard-breakers.js'

// A call on many keys is split by shard, each part under its own breaker (see `GuardedStore`);
// these put the parts' answers back together.

/** What one shard's part of a multi-key call gave: a result, or the error that shard failed with. */
export type ShardPart<T> = { readonly positions: readonly number[] } & (
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: unknown }
)

/** The positions of `keys` grouped by the breaker of each key's shard. */
export function positionsByBreaker(breakers: ShardBreakers, keys: readonly string[]): Map<CircuitBreaker, number[]> {
  const groups = new Map<CircuitBreaker, number[]>()
  keys.forEach((key, i) => {
    const breaker = breakers.of(key)
    const positions = groups.get(breaker)
    if (positions === undefined) groups.set(breaker, [i])
    else positions.push(i)
  })
  return groups
}

/** The values of every shard part, in order; throws the first failed part's error. */
export function answered<T>(parts: readonly ShardPart<T>[]): T[] {
  return parts.map((part) => {
    if (!part.ok) throw part.error
    return part.value
  })
}

/** A shard's part of a call: what `call` resolves or rejects with, beside the positions of its keys. */
export function settled<T>(call: Promise<T>, positions: readonly number[]): Promise<ShardPart<T>> {
  return call.then(
    (value) => ({ positions, ok: true, value }),
    (error: unknown) => ({ positions, ok: false, error }),
  )
}

/**
 * Puts the values of each answered shard part back at their keys' positions in `into` (`empty`
 * where the store gave none; `undefined` for the keys of a failed part); says whether a part
 * failed, and the first failure.
 */
export function scatter<V, E>(
  parts: readonly ShardPart<readonly V[]>[],
  into: (V | E | undefined)[],
  empty: E,
): { failed: boolean; error: unknown } {
  let failed = false
  let error: unknown
  for (const part of parts) {
    if (!part.ok) {
      failed = true
      error ??= part.error
    }
    part.positions.forEach((position, i) => {
      into[position] = part.ok ? (part.value[i] ?? empty) : undefined
    })
  }
  return { failed, error }
}
