import { seeded } from '@tiercache/testkit/helpers'
import { describe, expect, it } from 'vitest'
import { earlyRefreshFrom, shouldRefreshEarly } from '../src/entity/xfetch.js'

describe('XFetch early refresh', () => {
  it('refreshes exactly when -ln(u) >= (freshUntil - now) / (loadMs * beta)', () => {
    // gap 100 ms, loadMs 50, beta 1: threshold on -ln(u) is 2, i.e. u <= e^-2 ≈ 0.1353
    const u = Math.exp(-2)
    expect(shouldRefreshEarly(900, 1000, 50, 1, () => 1 - (u - 1e-9))).toBe(true)
    expect(shouldRefreshEarly(900, 1000, 50, 1, () => 1 - (u + 1e-9))).toBe(false)
    // beta 2 doubles the reach: gap 200 behaves like gap 100 at beta 1
    expect(shouldRefreshEarly(800, 1000, 50, 2, () => 1 - (u - 1e-9))).toBe(true)
  })

  it('never refreshes with beta 0, an unknown load time, or after expiry', () => {
    expect(shouldRefreshEarly(999, 1000, 50, 0, () => 0.999)).toBe(false)
    expect(shouldRefreshEarly(999, 1000, 0, 1, () => 0.999)).toBe(false)
    expect(shouldRefreshEarly(1000, 1000, 50, 1, () => 0.999)).toBe(false)
  })

  it.each([
    [25, 50, 1],
    [100, 50, 1],
    [150, 50, 1],
    [100, 20, 2],
  ])('matches exp(-gap / (loadMs * beta)) over 200k draws (gap %d, loadMs %d, beta %d)', (gap, loadMs, beta) => {
    const random = seeded(42)
    const draws = 200_000
    let hits = 0
    for (let i = 0; i < draws; i++) if (shouldRefreshEarly(1000 - gap, 1000, loadMs, beta, random)) hits++
    const expected = Math.exp(-gap / (loadMs * beta))
    // Binomial standard deviation is at most 0.0012 here; 5 sigma.
    expect(Math.abs(hits / draws - expected)).toBeLessThan(0.006)
  })

  it('starts considering refresh 20 * loadMs * beta before expiry', () => {
    expect(earlyRefreshFrom(10_000, 50, 1)).toBe(9_000)
    expect(earlyRefreshFrom(10_000, 0, 1)).toBe(Number.POSITIVE_INFINITY)
    expect(earlyRefreshFrom(10_000, 50, 0)).toBe(Number.POSITIVE_INFINITY)
  })
})
