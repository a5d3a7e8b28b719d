import { describe, expect, it } from 'vitest'
import { keySlot, testCluster } from '../src/index.js'

describe('keySlot', () => {
  it('matches the slots documented by Redis', () => {
    expect(keySlot('foo')).toBe(12182)
    expect(keySlot('123456789')).toBe(0x31c3 % 16384)
    expect(keySlot('')).toBe(0)
  })

  it('hashes only a non-empty hash tag', () => {
    expect(keySlot('{user1000}.following')).toBe(keySlot('{user1000}.followers'))
    expect(keySlot('{user1000}.following')).toBe(keySlot('user1000'))
    expect(keySlot('foo{}{bar}')).not.toBe(keySlot('bar'))
    expect(keySlot('foo{{bar}}zap')).toBe(keySlot('{bar'))
    expect(keySlot('foo{bar}{zap}')).toBe(keySlot('bar'))
  })

  it('accepts bytes as well as strings', () => {
    expect(keySlot(Buffer.from('{żółw}:1'))).toBe(keySlot('{żółw}:1'))
  })

  it('agrees with CLUSTER KEYSLOT on the real cluster', async () => {
    const cluster = testCluster()
    const [seed] = cluster.seeds()
    const keys = [
      ...Array.from({ length: 300 }, (_, index) => `key:${index}:${Math.random().toString(36).slice(2)}`),
      '{tag}',
      '{}',
      '{',
      '}{x}',
      'a{b}c{d}',
      '{żółw 🐢}:1',
      'emoji 🐢 without tag',
    ]
    for (const key of keys) {
      expect(await cluster.command(seed?.port ?? 0, ['CLUSTER', 'KEYSLOT', key]), key).toBe(keySlot(key))
    }
  })
})
