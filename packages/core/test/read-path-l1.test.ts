import { deferred } from '@tiercache/testkit/helpers'
import { describe, expect, it, vi } from 'vitest'
import { l1Cache } from './l1-cache.js'

function warningError(record: { obj: object } | undefined): { code: string; message: string } {
  if (record === undefined) throw new Error('expected a warning')
  return (record.obj as { err: { code: string; message: string } }).err
}

describe('read path without L2', () => {
  it('loads once, then serves from L1 until the TTL passes', async () => {
    const { cache, clock } = l1Cache({ product: { ttl: '10s' } })
    const products = cache.entity<{ id: string }>('product')
    const loader = vi.fn(async (id: string) => ({ id }))
    expect(await products.get('1', loader)).toEqual({ id: '1' })
    clock.advance(9_999)
    expect(await products.get('1', loader)).toEqual({ id: '1' })
    expect(loader).toHaveBeenCalledTimes(1)
    clock.advance(1)
    await products.get('1', loader)
    expect(loader).toHaveBeenCalledTimes(2)
    expect(products.stats()).toMatchObject({ l1Hits: 1, misses: 2, loads: 2 })
  })

  it('runs one loader for 100 concurrent gets of a cold key', async () => {
    const { cache } = l1Cache({ product: { ttl: '1m' } })
    const products = cache.entity<string>('product')
    const gate = deferred<string>()
    const loader = vi.fn(() => gate.promise)
    const reads = Array.from({ length: 100 }, () => products.get('hot', loader))
    gate.resolve('v')
    expect(await Promise.all(reads)).toEqual(Array(100).fill('v'))
    expect(loader).toHaveBeenCalledTimes(1)
  })

  it('passes loader errors to every waiting caller and does not cache them', async () => {
    const { cache } = l1Cache({ product: { ttl: '1m' } })
    const products = cache.entity<string>('product')
    const boom = new Error('db down')
    const failing = vi.fn(async () => {
      throw boom
    })
    const results = await Promise.allSettled([products.get('1', failing), products.get('1', failing)])
    expect(results).toEqual([
      { status: 'rejected', reason: boom },
      { status: 'rejected', reason: boom },
    ])
    expect(failing).toHaveBeenCalledTimes(1)
    expect(await products.get('1', async () => 'ok')).toBe('ok')
    expect(products.stats().loadErrors).toBe(1)
  })

  it('caches null and undefined for negativeTtl, then loads again', async () => {
    const { cache, clock } = l1Cache({ product: { ttl: '1m', negativeTtl: '5s' } })
    const products = cache.entity<string>('product')
    const loadNull = vi.fn(async () => null)
    expect(await products.get('gone', loadNull)).toBeNull()
    expect(await products.get('gone', loadNull)).toBeNull()
    expect(loadNull).toHaveBeenCalledTimes(1)
    const loadUndefined = vi.fn(async () => undefined)
    expect(await products.get('missing', loadUndefined)).toBeUndefined()
    expect(await products.get('missing', loadUndefined)).toBeUndefined()
    expect(loadUndefined).toHaveBeenCalledTimes(1)
    clock.advance(5_000)
    await products.get('gone', loadNull)
    expect(loadNull).toHaveBeenCalledTimes(2)
  })

  it('does not cache absent values when negativeTtl is false', async () => {
    const { cache } = l1Cache({ product: { ttl: '1m', negativeTtl: false } })
    const products = cache.entity<string>('product')
    const loader = vi.fn(async () => null)
    await products.get('gone', loader)
    await products.get('gone', loader)
    expect(loader).toHaveBeenCalledTimes(2)
  })

  it('shortens TTLs by at most the jitter fraction', async () => {
    const draws = [0, 0.5, 0.999_999]
    for (const draw of draws) {
      const { cache, clock } = l1Cache({ product: { ttl: 10_000, jitter: 0.2 } }, { random: () => draw })
      const products = cache.entity<string>('product')
      const loader = vi.fn(async () => 'v')
      await products.get('1', loader)
      const expectedTtl = Math.round(10_000 * (1 - 0.2 * draw))
      expect(expectedTtl).toBeGreaterThanOrEqual(8_000)
      expect(expectedTtl).toBeLessThanOrEqual(10_000)
      clock.advance(expectedTtl - 1)
      await products.get('1', loader)
      expect(loader).toHaveBeenCalledTimes(1)
      clock.advance(1)
      await products.get('1', loader)
      expect(loader).toHaveBeenCalledTimes(2)
    }
  })

  it.each([
    [
      'a circular object',
      () => {
        const o: Record<string, unknown> = {}
        o.self = o
        return o
      },
      'Converting circular structure to JSON',
    ],
    ['a BigInt', () => ({ n: 10n }), 'BigInt'],
    ['a function', () => ({ f: () => 1 }), 'cannot serialize a function at key "f"'],
    ['a symbol', () => Symbol('s'), 'cannot serialize a symbol'],
  ])('returns %s but does not cache it, with one warning', async (_, make, reason) => {
    const { cache, logger } = l1Cache({ product: { ttl: '1m' } })
    const products = cache.entity<unknown>('product')
    const value = make()
    const loader = vi.fn(async () => value)
    expect(await products.get('1', loader)).toBe(value)
    await products.get('1', loader)
    expect(loader).toHaveBeenCalledTimes(2)
    const warnings = logger.records.filter((r) => r.level === 'warn')
    expect(warnings).toHaveLength(2)
    const err = warningError(warnings[0])
    expect(err.code).toBe('VALUE_NOT_SERIALIZABLE')
    expect(err.message).toContain(reason)
    expect(products.stats().uncacheableValues).toBe(2)
  })

  it('returns a value over maxValueBytes without caching it (VALUE_TOO_LARGE)', async () => {
    const { cache, logger } = l1Cache({ product: { ttl: '1m', maxValueBytes: 10 } })
    const products = cache.entity<string>('product')
    const loader = vi.fn(async () => 'x'.repeat(20))
    expect(await products.get('1', loader)).toBe('x'.repeat(20))
    await products.get('1', loader)
    expect(loader).toHaveBeenCalledTimes(2)
    const err = warningError(logger.records.find((r) => r.level === 'warn'))
    expect(err.code).toBe('VALUE_TOO_LARGE')
    expect(err.message).toBe(
      'VALUE_TOO_LARGE: entity "product" id "1": the value is 22 bytes serialized, over maxValueBytes 10; it was returned but not cached',
    )
  })

  it.each([
    ['', 'an empty string'],
    ['x'.repeat(513), '513 characters long (the limit is 512)'],
    [42, 'a number'],
    [null, 'null'],
    [undefined, 'undefined'],
  ])('rejects the id %j with INVALID_KEY', async (id, what) => {
    const { cache } = l1Cache({ product: { ttl: '1m' } })
    await expect(cache.entity('product').get(id as string, async () => 'v')).rejects.toThrowError(
      `INVALID_KEY: entity "product": an id must be a non-empty string of at most 512 characters, got ${what}`,
    )
  })

  it('accepts ids with braces, newlines and unicode as distinct keys', async () => {
    const { cache } = l1Cache({ product: { ttl: '1m' } })
    const products = cache.entity<string>('product')
    const ids = ['a{b}', 'a{b', 'a\nb', 'ä', 'a\u0308', '{}', ' ']
    for (const id of ids) await products.get(id, async () => `v:${id}`)
    for (const id of ids) expect(await products.get(id, async () => 'reloaded')).toBe(`v:${id}`)
  })

  it('returns the cache copy of a loaded value so hits and loads look the same', async () => {
    const { cache } = l1Cache({ product: { ttl: '1m' } })
    const products = cache.entity<{ at: unknown }>('product')
    const first = await products.get('1', async () => ({ at: new Date(0) }))
    const second = await products.get('1', async () => ({ at: new Date(1) }))
    expect(first).toEqual({ at: '1970-01-01T00:00:00.000Z' })
    expect(second).toBe(first)
  })

  it('wrap keeps parameters and result and keys by the first argument by default', async () => {
    const { cache } = l1Cache({ product: { ttl: '1m' } })
    const products = cache.entity<{ id: string; n: number }>('product')
    const find = vi.fn(async (id: string, n: number) => ({ id, n }))
    const cached = products.wrap(find)
    expect(await cached('1', 1)).toEqual({ id: '1', n: 1 })
    expect(await cached('1', 2)).toEqual({ id: '1', n: 1 })
    const byBoth = products.wrap(find, { key: (id, n) => `${id}:${n}` })
    expect(await byBoth('1', 2)).toEqual({ id: '1', n: 2 })
    expect(find).toHaveBeenCalledTimes(2)
    const byObject = products.wrap(async (q: { id: string }) => ({ id: q.id, n: 0 }))
    await expect(byObject({ id: '1' })).rejects.toThrowError(
      'INVALID_KEY: wrap: the first argument is not a string or number; pass { key: (...args) => id }',
    )
  })

  it('invalidating runs the write, then invalidates the ids it names', async () => {
    const { cache } = l1Cache({ product: { ttl: '1m' } })
    const products = cache.entity<number>('product')
    const db = new Map([['1', 10]])
    const read = products.wrap(async (id: string) => db.get(id))
    const update = products.invalidating(
      async (id: string, price: number) => {
        db.set(id, price)
        return price
      },
      { keys: ([id]) => id },
    )
    expect(await read('1')).toBe(10)
    expect(await update('1', 12)).toBe(12)
    expect(await read('1')).toBe(12)
  })

  it('a load that started before an invalidation does not fill L1 after it', async () => {
    const { cache } = l1Cache({ product: { ttl: '1m' } })
    const products = cache.entity<string>('product')
    const gate = deferred<string>()
    const slow = products.get('1', () => gate.promise)
    await products.invalidate('1')
    const fresh = products.get('1', async () => 'v2')
    gate.resolve('v1')
    expect(await slow).toBe('v1')
    expect(await fresh).toBe('v2')
    expect(await products.get('1', async () => 'v3')).toBe('v2')
  })

  it('set writes a value as if it had been loaded', async () => {
    const { cache } = l1Cache({ product: { ttl: '1m' } })
    const products = cache.entity<string>('product')
    await products.set('1', 'v')
    expect(await products.get('1', async () => 'loaded')).toBe('v')
  })

  it('getMany serves L1 hits, loads misses in one batch and keeps input order', async () => {
    const { cache } = l1Cache({ product: { ttl: '1m' } })
    const products = cache.entity<string>('product')
    await products.get('b', async () => 'B')
    const batch = vi.fn(async (ids: string[]) => new Map(ids.filter((id) => id !== 'zz').map((id) => [id, id.toUpperCase()])))
    expect(await products.getMany(['a', 'b', 'c', 'a', 'zz'], batch)).toEqual(['A', 'B', 'C', 'A', undefined])
    expect(batch).toHaveBeenCalledTimes(1)
    expect(batch).toHaveBeenCalledWith(['a', 'c', 'zz'], expect.anything())
    expect(await products.getMany(['c', 'zz'], batch)).toEqual(['C', undefined])
    expect(batch).toHaveBeenCalledTimes(1)
  })

  it('getMany joins loads already running for the same ids', async () => {
    const { cache } = l1Cache({ product: { ttl: '1m' } })
    const products = cache.entity<string>('product')
    const gate = deferred<string>()
    const single = products.get('a', () => gate.promise)
    const batch = vi.fn(async (ids: string[]) => ids.map((id) => id.toUpperCase()))
    const many = products.getMany(['a', 'b'], batch)
    gate.resolve('from-get')
    expect(await single).toBe('from-get')
    expect(await many).toEqual(['from-get', 'B'])
    expect(batch).toHaveBeenCalledWith(['b'], expect.anything())
  })

  it('getMany rejects a batch loader result of the wrong shape', async () => {
    const { cache } = l1Cache({ product: { ttl: '1m' } })
    await expect(cache.entity<string>('product').getMany(['a', 'b'], async () => ['A'])).rejects.toThrowError(
      'INVALID_LOADER_RESULT: entity "product": a batch loader must return an array aligned with its ids (length 2) or a Map from id to value, got an array of length 1',
    )
  })

  it('close makes later loads fail with CACHE_CLOSED', async () => {
    const { cache } = l1Cache({ product: { ttl: '1m' } })
    await cache.close()
    await expect(cache.entity('product').get('1', async () => 'v')).rejects.toThrowError(
      'CACHE_CLOSED: entity "product": the cache was closed; create a new one',
    )
  })
})
