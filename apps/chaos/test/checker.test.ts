import { describe, expect, it } from 'vitest'
import { checkReads, deadlineOf } from '../src/checker.js'

const bound = { boundMs: 1_000, slowMs: 1_000 }
// [key, version, start, end, how]
const read = (key: number, version: number, start: number, end = start + 1) => [key, version, start, end, 0]

describe('the chaos checker', () => {
  it('flags a read that starts past the bound after an invalidation and returns the old version', () => {
    const report = checkReads(read(7, 1, 12_000), [{ key: 7, version: 2, resolvedAt: 10_000 }], [], bound)
    expect(report.staleReads).toEqual([{ key: 7, got: 1, expected: 2, lateByMs: 1_000, start: 12_000, how: 0, invalidatedAt: 10_000 }])
  })

  it('accepts the old version within the bound, a newer version at any time, and other keys', () => {
    const reads = [...read(7, 1, 10_900), ...read(7, 3, 20_000), ...read(8, 1, 20_000)]
    const report = checkReads(reads, [{ key: 7, version: 2, resolvedAt: 10_000 }], [], bound)
    expect(report.staleReads).toEqual([])
    expect(report.reads).toBe(3)
  })

  it('counts the bound from the moment the cluster was whole again when a fault overlaps', () => {
    const faults = [{ label: 'kill master', start: 10_500, end: 15_000 }]
    expect(deadlineOf(10_000, faults, 1_000)).toBe(16_000)
    expect(checkReads(read(7, 1, 15_900), [{ key: 7, version: 2, resolvedAt: 10_000 }], faults, bound).staleReads).toEqual([])
    expect(checkReads(read(7, 1, 16_100), [{ key: 7, version: 2, resolvedAt: 10_000 }], faults, bound).staleReads).toHaveLength(1)
  })

  it('chains back-to-back faults but ignores a fault that starts after the bound ran out', () => {
    const chained = [
      { label: 'a', start: 10_200, end: 12_000 },
      { label: 'b', start: 12_500, end: 14_000 },
    ]
    expect(deadlineOf(10_000, chained, 1_000)).toBe(15_000)
    expect(deadlineOf(10_000, [{ label: 'late', start: 11_500, end: 13_000 }], 1_000)).toBe(11_000)
  })

  it('requires the highest version whose deadline has passed, whatever order invalidations resolved in', () => {
    const invalidations = [
      { key: 1, version: 3, resolvedAt: 5_000 },
      { key: 1, version: 2, resolvedAt: 4_000 },
    ]
    const report = checkReads([...read(1, 2, 6_500), ...read(1, 3, 6_500), ...read(1, 1, 5_500)], invalidations, [], bound)
    expect(report.staleReads.map((s) => [s.got, s.expected])).toEqual([
      [2, 3],
      [1, 2],
    ])
  })

  it('counts reads slower than the limit and keeps the slowest', () => {
    const report = checkReads([...read(1, 1, 0, 1_500), ...read(1, 1, 0, 20)], [], [], bound)
    expect(report.slowReads).toBe(1)
    expect(report.slowestReadMs).toBe(1_500)
  })
})
