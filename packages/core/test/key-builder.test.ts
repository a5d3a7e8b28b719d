import { describe, expect, it } from 'vitest'
import { hasHashTag, KeyBuilder, MAX_ID_LENGTH, tagStampKey } from '../src/l2/key-builder.js'

describe('KeyBuilder', () => {
  const keys = new KeyBuilder('shop', 'product')

  it('wraps namespace, entity and id in one hash tag', () => {
    expect(keys.valueKey('42')).toBe('{shop:product:42}')
    expect(keys.lockKey('42')).toBe('{shop:product:42}:lock')
  })

  it('keeps a hash tag the id already carries', () => {
    expect(keys.valueKey('user{7}:cart')).toBe('shop:product:user{7}:cart')
    expect(keys.lockKey('user{7}:cart')).toBe('shop:product!lock:user{7}:cart')
  })

  it('treats empty or unclosed braces as no hash tag', () => {
    expect(hasHashTag('a{}b')).toBe(false)
    expect(hasHashTag('a{b')).toBe(false)
    expect(hasHashTag('a}b{')).toBe(false)
    expect(hasHashTag('a{b}')).toBe(true)
    expect(keys.valueKey('a{b')).toBe('{shop:product:a{b}')
  })

  it('never gives a lock key that equals another id value key', () => {
    const ids = ['1', '1}:lock', 'u{1}', 'u{1}:lock', '{x}', '{x}:lock', 'a}', 'a}:lock', ':lock', '!lock:u{1}']
    const valueKeys = new Set(ids.map((id) => keys.valueKey(id)))
    expect(valueKeys.size).toBe(ids.length)
    for (const id of ids) expect(valueKeys.has(keys.lockKey(id))).toBe(false)
  })

  it('keeps tag stamps apart from value keys of an entity named "tag"', () => {
    expect(tagStampKey('shop', 'x')).not.toBe(new KeyBuilder('shop', 'tag').valueKey('x'))
  })

  it('documents the id length limit', () => {
    expect(MAX_ID_LENGTH).toBe(512)
  })
})
