import { describe, expect, it, vi } from 'vitest'
import { createL1Store, L1Entry, NO_TAGS, putL1 } from '../src/entity/l1-store.js'
import { l1Cache } from './l1-cache.js'

const SPAN = 2 ** 29

function times(
  createdAt: number,
  over: Partial<Record<'freshUntil' | 'valueFreshUntil' | 'staleUntil' | 'loadMs' | 'earlyFrom', number>> = {},
) {
  return {
    createdAt,
    freshUntil: createdAt + 30_000,
    valueFreshUntil: createdAt + 600_000,
    staleUntil: createdAt + 4_200_000,
    loadMs: 12,
    earlyFrom: createdAt + 599_760,
    ...over,
  }
}

function readBack(entry: L1Entry) {
  return {
    createdAt: entry.createdAt,
    freshUntil: entry.freshUntil,
    valueFreshUntil: entry.valueFreshUntil,
    staleUntil: entry.staleUntil,
    loadMs: entry.loadMs,
    earlyFrom: entry.earlyFrom,
  }
}

describe('L1 entry', () => {
  it.each([
    ['a wall-clock time', 1_796_000_000_123],
    ['the last ms of a time span', 3_352 * SPAN - 1],
    ['the first ms of a time span', 3_352 * SPAN],
    ['a manual clock at 0', 0],
    ['a fractional clock', 1_796_000_000_123.375],
    ['a negative clock', -5_000],
  ])('gives back exactly the times it was given (%s)', (_, createdAt) => {
    const given = times(createdAt)
    expect(readBack(new L1Entry('v', given, NO_TAGS))).toEqual(given)
  })

  it('keeps times exactly when a TTL plus grace is too long for a small integer offset', () => {
    const given = times(1_796_000_000_123, { staleUntil: 1_796_000_000_123 + 400 * 86_400_000, valueFreshUntil: Number.POSITIVE_INFINITY })
    expect(readBack(new L1Entry('v', given, NO_TAGS))).toEqual(given)
  })

  it('keeps "never" for early refresh, and a fractional load time', () => {
    const given = times(1_796_000_000_123, { earlyFrom: Number.POSITIVE_INFINITY, loadMs: 0.25 })
    expect(readBack(new L1Entry('v', given, NO_TAGS))).toEqual(given)
  })

  it('considers early refresh 1 ms sooner only when the offset would read as "never"', () => {
    const createdAt = 3_352 * SPAN
    const entry = new L1Entry('v', times(createdAt, { earlyFrom: createdAt + 2 ** 30 - 1 }), NO_TAGS)
    expect(entry.earlyFrom).toBe(createdAt + 2 ** 30 - 2)
  })

  it('shares one empty tags array and keeps the tags it is given', () => {
    const untagged = new L1Entry('a', times(1), [])
    expect(untagged.tags).toBe(NO_TAGS)
    expect(new L1Entry('b', times(1), []).tags).toBe(untagged.tags)
    const tags = ['category:7']
    expect(new L1Entry('c', times(1), tags).tags).toBe(tags)
  })
})

describe('L1 store', () => {
  it('with maxBytes, counts the size given to each put and evicts the least recent entries past it', () => {
    const l1 = createL1Store({ ttlMs: 1_000, maxEntries: 100, maxBytes: 1_000 })
    for (let i = 0; i < 5; i++) putL1(l1, `k${i}`, new L1Entry(i, times(1), NO_TAGS), 300)
    expect(l1.calculatedSize).toBe(900)
    expect([...l1.keys()].sort()).toEqual(['k2', 'k3', 'k4'])
  })

  it('without maxBytes, bounds only the entry count', () => {
    const l1 = createL1Store({ ttlMs: 1_000, maxEntries: 3, maxBytes: 0 })
    for (let i = 0; i < 5; i++) putL1(l1, `k${i}`, new L1Entry(i, times(1), NO_TAGS), 1_000_000)
    expect(l1.size).toBe(3)
  })

  it("keeps an entity's L1 within maxBytes through the read path", async () => {
    const { cache } = l1Cache({ product: { ttl: '1m', l1: { maxBytes: 1_000 } } })
    const products = cache.entity<string>('product')
    const loader = vi.fn(async (id: string) => id.repeat(200))
    // Each value is ~200 B serialized + 64 B of bookkeeping: three fit in 1,000 B, the fourth evicts the first.
    for (const id of ['a', 'b', 'c', 'd']) await products.get(id, loader)
    expect(loader).toHaveBeenCalledTimes(4)
    await products.get('d', loader)
    expect(loader).toHaveBeenCalledTimes(4)
    await products.get('a', loader)
    expect(loader).toHaveBeenCalledTimes(5)
  })
})
