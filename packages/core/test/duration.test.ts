import { describe, expect, it } from 'vitest'
import { parseDuration, tryParseDuration } from '../src/util/duration.js'

describe('durations', () => {
  it.each([
    [0, 0],
    [1500, 1500],
    ['250ms', 250],
    ['30s', 30_000],
    ['10m', 600_000],
    ['1h', 3_600_000],
    ['1.5h', 5_400_000],
    ['2d', 172_800_000],
    [' 5 s ', 5_000],
  ])('parses %j as %d ms', (input, ms) => {
    expect(tryParseDuration(input)).toBe(ms)
  })

  it.each([['10'], ['ten s'], ['5y'], [''], [-1], [Number.NaN], [Number.POSITIVE_INFINITY], [null], [{}]])('rejects %j', (input) => {
    expect(tryParseDuration(input)).toBeUndefined()
  })

  it('throws INVALID_CONFIG naming the field', () => {
    expect(() => parseDuration('soon', 'ttl')).toThrowError(
      `INVALID_CONFIG: ttl: expected a duration (milliseconds as a number >= 0, or a string like '500ms', '30s', '10m', '1h'), got "soon"`,
    )
  })
})
