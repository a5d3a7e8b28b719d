import { seeded } from '@tiercache/testkit/helpers'
import { describe, expect, it } from 'vitest'
import { SpaceSaving } from '../src/hot-keys/space-saving.js'

// A skewed stream over `keys` keys: key i drawn with weight 1 / (i + 1).
function skewedStream(length: number, keys: number, random: () => number): string[] {
  const cdf = new Float64Array(keys)
  let sum = 0
  for (let i = 0; i < keys; i++) {
    sum += 1 / (i + 1)
    cdf[i] = sum
  }
  const out: string[] = []
  for (let n = 0; n < length; n++) {
    const u = random() * sum
    let lo = 0
    let hi = keys - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (cdf[mid]! < u) lo = mid + 1
      else hi = mid
    }
    out.push(`k${lo}`)
  }
  return out
}

function exactCounts(stream: string[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const key of stream) counts.set(key, (counts.get(key) ?? 0) + 1)
  return counts
}

describe('SpaceSaving', () => {
  it('counts exactly, with no error, while distinct keys fit in the capacity', () => {
    const summary = new SpaceSaving(10)
    const stream = skewedStream(5_000, 10, seeded(1))
    for (const key of stream) summary.add(key)
    const exact = exactCounts(stream)
    expect(summary.total).toBe(5_000)
    expect(summary.size).toBe(exact.size)
    for (const [key, count] of exact) expect(summary.estimate(key)).toEqual({ count, error: 0 })
  })

  it('replaces a counter of the minimum count, which the newcomer inherits as its error', () => {
    const summary = new SpaceSaving(2)
    for (const key of ['a', 'a', 'a', 'b', 'b', 'c']) summary.add(key)
    // b (count 2) was the minimum: c counts on from 2 with error 2
    expect(summary.estimate('b')).toBeUndefined()
    expect(summary.estimate('c')).toEqual({ count: 3, error: 2 })
    expect(summary.estimate('a')).toEqual({ count: 3, error: 0 })
    summary.add('d') // ties at 3: either a or c goes, and d inherits 3
    expect(summary.estimate('d')).toEqual({ count: 4, error: 3 })
    expect(summary.size).toBe(2)
  })

  it('keeps count >= true count >= count - error, and every key above total / capacity, on a random stream', () => {
    const capacity = 50
    const summary = new SpaceSaving(capacity)
    const stream = skewedStream(100_000, 2_000, seeded(7))
    const exact = new Map<string, number>()
    for (const [n, key] of stream.entries()) {
      summary.add(key)
      exact.set(key, (exact.get(key) ?? 0) + 1)
      // check the bounds part-way through too, not only at the end
      if (n % 25_000 !== 24_999) continue
      const entries = summary.entries()
      expect(entries.length).toBeLessThanOrEqual(capacity)
      for (const { key: monitored, count, error } of entries) {
        const truth = exact.get(monitored) ?? 0
        expect(count).toBeGreaterThanOrEqual(truth)
        expect(count - error).toBeLessThanOrEqual(truth)
      }
      // once full, the counts add up to the stream length: each add raises exactly one count by 1
      expect(entries.reduce((sum, entry) => sum + entry.count, 0)).toBe(summary.total)
      const minCount = Math.min(...entries.map((entry) => entry.count))
      for (const [key2, truth] of exact) {
        if (truth > summary.total / capacity) expect(summary.estimate(key2), key2).toBeDefined()
        if (summary.estimate(key2) === undefined) expect(truth).toBeLessThanOrEqual(minCount)
      }
    }
    // the test is only meaningful if the stream had heavy hitters and a long tail
    const heavy = [...exact.values()].filter((count) => count > stream.length / capacity).length
    expect(heavy).toBeGreaterThanOrEqual(5)
    expect(exact.size).toBeGreaterThan(capacity * 10)
  })

  it('starts afresh after reset, reusing its counters', () => {
    const summary = new SpaceSaving(4)
    for (const key of skewedStream(1_000, 100, seeded(3))) summary.add(key)
    summary.reset()
    expect(summary.total).toBe(0)
    expect(summary.size).toBe(0)
    expect(summary.entries()).toEqual([])
    expect(summary.estimate('k0')).toBeUndefined()
    for (const key of ['x', 'y', 'x', 'z', 'x', 'y']) summary.add(key)
    expect(new Map(summary.entries().map((entry) => [entry.key, [entry.count, entry.error]]))).toEqual(
      new Map([
        ['x', [3, 0]],
        ['y', [2, 0]],
        ['z', [1, 0]],
      ]),
    )
  })

  it('takes a million adds over many distinct keys', () => {
    const summary = new SpaceSaving(256)
    const random = seeded(11)
    for (let n = 0; n < 1_000_000; n++) summary.add(`k${Math.floor(random() * random() * 10_000)}`)
    expect(summary.total).toBe(1_000_000)
    expect(summary.size).toBe(256)
  })
})
