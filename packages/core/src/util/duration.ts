import { TierCacheError } from './errors.js'

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }
const DURATION_PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/

/**
 * A duration as users write it: a non-negative number of milliseconds, or a string of a number
 * and a unit (`ms`, `s`, `m`, `h`, `d`), e.g. `'250ms'`, `'30s'`, `'10m'`, `'1h'`, `'1.5h'`.
 */
export type Duration = number | string

/**
 * Parses a {@link Duration} into whole milliseconds (rounded down), or `undefined` when the
 * input is not a duration. Used by the config schema, which turns `undefined` into an
 * `INVALID_CONFIG` error naming the field.
 */
export function tryParseDuration(input: unknown): number | undefined {
  if (typeof input === 'number') {
    return Number.isFinite(input) && input >= 0 ? Math.floor(input) : undefined
  }
  if (typeof input !== 'string') return undefined
  const match = DURATION_PATTERN.exec(input.trim())
  if (match === null) return undefined
  const ms = Number(match[1]) * (UNIT_MS[match[2] as string] as number)
  return Number.isFinite(ms) ? Math.floor(ms) : undefined
}

/** Parses a {@link Duration} or throws `INVALID_CONFIG`. */
export function parseDuration(input: Duration, field = 'duration'): number {
  const ms = tryParseDuration(input)
  if (ms === undefined) {
    throw new TierCacheError(
      'INVALID_CONFIG',
      `${field}: expected a duration (milliseconds as a number >= 0, or a string like '500ms', '30s', '10m', '1h'), got ${JSON.stringify(input)}`,
    )
  }
  return ms
}
