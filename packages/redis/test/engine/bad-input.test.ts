import { type EntityOptions, KeyBuilder, type TierCache, type TierCacheError } from '@tiercache/core'
import { testCluster } from '@tiercache/testkit'
import { describe, expect, it, vi } from 'vitest'
import { z } from 'zod'
import { redisClusterStore } from '../../src/index.js'
import { eventually, fleet, type LogRecord, rawClusterClient, uniqueNamespace } from './helpers.js'

const cluster = rawClusterClient()

const never = vi.fn(async (): Promise<never> => {
  throw new Error('this loader must not run')
})

/**
 * Two instances (no L1, so every read goes to L2) with one entry, `keep`, already cached: each
 * test checks that bad input leaves it served and adds no key but the ones it expects.
 */
async function twoInstances(entity: Partial<EntityOptions> = {}) {
  const namespace = uniqueNamespace()
  const f = await fleet(2, { namespace, entities: { product: { ttl: '1m', l1: false, hot: false, ...entity } } })
  const [a, b] = f.caches as [TierCache, TierCache]
  await a.entity('product').set('keep', { id: 'keep' })
  const keys = new KeyBuilder(namespace, 'product')
  const keepKey = keys.valueKey('keep')
  return {
    ...f,
    a,
    b,
    namespace,
    keys,
    /** `keep` is still served from L2 and nothing was written under a key not in `extra`. */
    async unharmed(extra: string[] = []) {
      expect(await b.entity('product').get('keep', never)).toEqual({ id: 'keep' })
      expect(await cluster.keysContaining(namespace)).toEqual([keepKey, ...extra].sort())
    },
  }
}

function warnings(records: LogRecord[], msg: string): LogRecord[] {
  return records.filter((r) => r.level === 'warn' && r.msg === msg)
}

async function rejection(promise: Promise<unknown>): Promise<TierCacheError> {
  return promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (error: unknown) => error as TierCacheError,
  )
}

const LIMIT = 'an id must be a non-empty string of at most 512 characters'

describe('bad ids', () => {
  it.each([
    ['an empty string', '', `${LIMIT}, got an empty string`],
    ['513 characters', 'x'.repeat(513), `${LIMIT}, got 513 characters long (the limit is 512)`],
    ['a number', 42, `${LIMIT}, got a number`],
    ['null', null, `${LIMIT}, got null`],
    ['undefined', undefined, `${LIMIT}, got undefined`],
    ['an object', { id: 1 }, `${LIMIT}, got an object`],
    [
      'a lone high surrogate',
      '\uD800',
      'an id must be well-formed UTF-16, got one with a lone surrogate (Redis would store it as U+FFFD and mix it up with other ids)',
    ],
    [
      'a lone low surrogate inside',
      'a\uDC00b',
      'an id must be well-formed UTF-16, got one with a lone surrogate (Redis would store it as U+FFFD and mix it up with other ids)',
    ],
  ])('rejects %s with INVALID_KEY from get, getMany, set and invalidate, and touches nothing', async (_, id, message) => {
    const { a, close, unharmed } = await twoInstances()
    const products = a.entity<unknown>('product')
    const loader = vi.fn(async () => 'loaded')
    const expected = `INVALID_KEY: entity "product": ${message}`
    for (const attempt of [
      () => products.get(id as string, loader),
      () => products.getMany(['fine', id as string], async (ids) => ids.map(() => 'loaded')),
      () => products.set(id as string, 'value'),
      () => products.invalidate(['fine', id as string]),
    ]) {
      const error = await rejection(attempt())
      expect(error.name).toBe('TierCacheError')
      expect(error.code).toBe('INVALID_KEY')
      expect(error.message).toBe(expected)
    }
    expect(loader).not.toHaveBeenCalled()
    // getMany and invalidate checked every id before doing anything, so 'fine' was not touched either
    expect(a.stats().product).toMatchObject({ loads: 0, invalidations: 0 })
    await unharmed()
    await close()
  })

  it('rejects an invalidate argument that is neither an id nor an array', async () => {
    const { a, close, unharmed } = await twoInstances()
    const error = await rejection(a.entity('product').invalidate(42 as unknown as string))
    expect(error.message).toBe('INVALID_KEY: entity "product": invalidate expects an id or an array of ids')
    await unharmed()
    await close()
  })

  it('accepts ids with braces, newlines, control characters and unicode, each under its own Redis key', async () => {
    const { a, b, keys, close, unharmed } = await twoInstances()
    const ids = [
      '{',
      '}',
      '{}',
      '{a}',
      'a{b}',
      '{a}b',
      'a}{b',
      'line\nbreak',
      'line\r\nbreak',
      '\t',
      '\u0000',
      ' ',
      '😀',
      'k:v',
      'product:keep',
      // an id that spells the Redis key of another id
      keys.valueKey('keep'),
      'x'.repeat(512),
    ]
    for (const id of ids) await a.entity('product').set(id, { id })
    for (const id of ids) expect(await b.entity<{ id: string }>('product').get(id, never)).toEqual({ id })
    // one key per id, and each holds its own id's value
    await unharmed(ids.map((id) => keys.valueKey(id)))
    for (const id of ids)
      expect(await cluster.client.get(keys.valueKey(id))).toMatch(
        new RegExp(`${JSON.stringify({ id }).replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}$`),
      )
    await close()
  })

  it('ids that look alike after normalisation (NFC/NFD, compatibility forms, spaces, brace placement) never share a Redis key', async () => {
    const { a, b, keys, close, unharmed } = await twoInstances()
    const lookalikes = [
      ['ä', 'a\u0308'],
      ['Å', '\u212B', 'A\u030A'],
      ['ﬁ', 'fi'],
      ['x', 'x ', ' x', 'x\u00A0'],
      ['a{b}', '{a}b', '{ab}', 'ab'],
      ['k', 'k\n', 'k\r\n'],
      ['I', 'ı', 'İ', 'i'],
    ].flat()
    expect(new Set(lookalikes.map((id) => keys.valueKey(id))).size).toBe(lookalikes.length)
    await Promise.all(lookalikes.map((id, n) => a.entity('product').set(id, { n })))
    for (const [n, id] of lookalikes.entries()) expect(await b.entity('product').get(id, never)).toEqual({ n })
    await unharmed(lookalikes.map((id) => keys.valueKey(id)))
    await close()
  })
})

describe('values that cannot be cached as they are', () => {
  const circular: Record<string, unknown> = { name: 'loop' }
  circular.self = circular

  it.each([
    ['a circular structure', circular, /^cannot be serialized \(Converting circular structure to JSON/],
    ['a BigInt', { n: 10n }, /^cannot be serialized \(Do not know how to serialize a BigInt\)/],
    ['a function inside an object', { f: () => 1 }, /^cannot be serialized \(cannot serialize a function at key "f"\)/],
    ['a symbol inside an array', [Symbol('s')], /^cannot be serialized \(cannot serialize a symbol at key "0"\)/],
    ['a function', () => 1, /^cannot be serialized \(cannot serialize a function\)/],
  ])('returns %s as loaded, caches nothing, logs VALUE_NOT_SERIALIZABLE once, and loads it again next time', async (_, value, why) => {
    const { a, b, loggers, close, unharmed } = await twoInstances()
    expect(await a.entity('product').get('bad', async () => value)).toBe(value)
    const logged = warnings(loggers[0]!.records, 'value not cached')
    expect(logged).toHaveLength(1)
    const err = logged[0]?.obj.err as TierCacheError
    expect(err.code).toBe('VALUE_NOT_SERIALIZABLE')
    expect(err.message.startsWith('VALUE_NOT_SERIALIZABLE: entity "product" id "bad": the loaded value ')).toBe(true)
    expect(err.message.replace('VALUE_NOT_SERIALIZABLE: entity "product" id "bad": the loaded value ', '')).toMatch(why)
    expect(err.message.endsWith('; it was returned but not cached')).toBe(true)
    expect(a.stats().product?.uncacheableValues).toBe(1)
    // nothing in L2 (no value, no leftover lock): the other instance loads
    const loader = vi.fn(async () => 'loaded by b')
    expect(await b.entity('product').get('bad', loader)).toBe('loaded by b')
    expect(loader).toHaveBeenCalledTimes(1)
    await unharmed([new KeyBuilder((a as { namespace: string }).namespace, 'product').valueKey('bad')])
    await close()
  })

  it('turns undefined inside arrays into null, for the loading caller and for every later reader', async () => {
    const { a, b, close } = await twoInstances()
    expect(await a.entity('product').get('arr', async () => [1, undefined, 3])).toEqual([1, null, 3])
    expect(await b.entity('product').get('arr', never)).toEqual([1, null, 3])
    await close()
  })

  it('turns Dates into ISO strings, as entity-policies.md documents, for the loading caller and every later reader', async () => {
    const { a, b, close } = await twoInstances()
    const at = new Date(Date.UTC(2024, 1, 29, 12, 30))
    expect(await a.entity('product').get('d', async () => ({ at }))).toEqual({ at: '2024-02-29T12:30:00.000Z' })
    expect(await b.entity('product').get('d', never)).toEqual({ at: '2024-02-29T12:30:00.000Z' })
    await close()
  })

  it('returns a value over maxValueBytes, logs VALUE_TOO_LARGE, and writes nothing to L2', async () => {
    const { a, b, loggers, close, unharmed } = await twoInstances({ maxValueBytes: 100 })
    const big = { text: 'é'.repeat(60) } // 120 bytes of UTF-8 in 60 characters
    expect(await a.entity('product').get('big', async () => big)).toBe(big)
    const logged = warnings(loggers[0]!.records, 'value not cached')
    expect(logged).toHaveLength(1)
    expect(logged[0]?.obj.err).toMatchObject({
      code: 'VALUE_TOO_LARGE',
      message:
        'VALUE_TOO_LARGE: entity "product" id "big": the value is 131 bytes serialized, over maxValueBytes 100; it was returned but not cached',
    })
    const loader = vi.fn(async () => 'small')
    expect(await b.entity('product').get('big', loader)).toBe('small')
    await unharmed([new KeyBuilder((a as { namespace: string }).namespace, 'product').valueKey('big')])
    await close()
  })

  it('a set of a value over maxValueBytes logs VALUE_TOO_LARGE and deletes the old value from L2: no instance reads it again', async () => {
    const { a, b, keys, loggers, close, unharmed } = await twoInstances({ maxValueBytes: 100 })
    await a.entity('product').set('p', { v: 'old' })
    expect(await b.entity('product').get('p', never)).toEqual({ v: 'old' })
    await a.entity('product').set('p', { text: 'é'.repeat(60) })
    expect(warnings(loggers[0]!.records, 'value not cached')[0]?.obj.err).toMatchObject({ code: 'VALUE_TOO_LARGE' })
    expect(await cluster.client.get(keys.valueKey('p'))).toBeNull()
    const loader = vi.fn(async () => ({ v: 'reloaded' }))
    expect(await b.entity('product').get('p', loader)).toEqual({ v: 'reloaded' })
    expect(loader).toHaveBeenCalledTimes(1)
    await unharmed([keys.valueKey('p')])
    await close()
  })
})

describe('data in Redis that is not ours or is corrupt', () => {
  async function realEnvelope(): Promise<string> {
    const { a, keys, close } = await twoInstances()
    await a.entity('product').set('x', { id: 'x', name: 'a real entry' })
    const envelope = (await cluster.client.get(keys.valueKey('x'))) as string
    await close()
    return envelope
  }

  it.each([
    ['a truncated envelope', async (key: string) => void (await cluster.client.set(key, (await realEnvelope()).slice(0, 30)))],
    [
      'an envelope cut inside its payload',
      async (key: string) => void (await cluster.client.set(key, (await realEnvelope()).slice(0, -3))),
    ],
    ['an empty string', async (key: string) => void (await cluster.client.set(key, ''))],
    ['another application string', async (key: string) => void (await cluster.client.set(key, '{"user":"someone else"}'))],
    [
      'an envelope of another version',
      async (key: string) => void (await cluster.client.set(key, (await realEnvelope()).replace(/^tc1\|/, 'tc2|'))),
    ],
    ['a hash (WRONGTYPE)', async (key: string) => void (await cluster.client.hset(key, 'field', 'value'))],
    ['a list (WRONGTYPE)', async (key: string) => void (await cluster.client.rpush(key, 'a', 'b'))],
    ['a set (WRONGTYPE)', async (key: string) => void (await cluster.client.sadd(key, 'member'))],
  ])('%s under our key: a miss, never thrown, never returned, removed, logged once', async (_, plant) => {
    const { a, keys, loggers, close, unharmed } = await twoInstances()
    const key = keys.valueKey('1')
    await plant(key)
    const loader = vi.fn(async () => ({ id: '1', fresh: true }))
    // concurrent readers of one instance: one read of L2, one load, one log line
    const reads = await Promise.all(Array.from({ length: 5 }, () => a.entity('product').get('1', loader)))
    for (const value of reads) expect(value).toEqual({ id: '1', fresh: true })
    expect(loader).toHaveBeenCalledTimes(1)
    const logged = warnings(loggers[0]!.records, 'corrupt entry in L2 removed')
    expect(logged).toHaveLength(1)
    expect(logged[0]?.obj).toMatchObject({ id: '1', key })
    // not an L2 failure: the breaker does not move
    expect(a.stats().product).toMatchObject({ corruptEntries: 1, l2Errors: 0 })
    expect(a.breakerState()).toBe('closed')
    // replaced by a real entry
    expect(await cluster.client.type(key)).toBe('string')
    expect(await cluster.client.get(key)).toMatch(/^tc1\|v\|.*"fresh":true\}$/)
    await unharmed([key])
    await close()
  })

  it('foreign data under several keys never opens the circuit breaker (WRONGTYPE is not a failing Redis)', async () => {
    const { a, keys, close } = await twoInstances()
    const ids = Array.from({ length: 8 }, (_, i) => `h${i}`)
    for (const id of ids) await cluster.client.hset(keys.valueKey(id), 'f', 'v')
    for (const id of ids) expect(await a.entity('product').get(id, async () => id)).toBe(id)
    expect(a.stats().product).toMatchObject({ corruptEntries: 8, l2Errors: 0, loads: 8 })
    expect(a.breakerState()).toBe('closed')
    await close()
  })

  it('getMany over foreign data of every kind returns the loaded values and leaves real entries behind', async () => {
    const { a, b, keys, close } = await twoInstances()
    await cluster.client.set(keys.valueKey('s'), 'not ours')
    await cluster.client.hset(keys.valueKey('h'), 'f', 'v')
    await cluster.client.rpush(keys.valueKey('l'), 'x')
    const ids = ['s', 'h', 'l', 'keep']
    const batch = vi.fn(async (missing: string[]) => missing.map((id) => ({ id, loaded: true })))
    expect(await a.entity('product').getMany(ids, batch)).toEqual([
      { id: 's', loaded: true },
      { id: 'h', loaded: true },
      { id: 'l', loaded: true },
      { id: 'keep' },
    ])
    expect(batch).toHaveBeenCalledWith(['s', 'h', 'l'], expect.anything())
    expect(a.stats().product?.l2Errors).toBe(0)
    for (const id of ['s', 'h', 'l']) expect(await b.entity('product').get(id, never)).toEqual({ id, loaded: true })
    await close()
  })
})

describe('an entity schema', () => {
  const Product = z.object({ id: z.string(), priceCents: z.number().int() })

  it('treats an L2 value of an older shape as a miss: reloaded, removed, counted and logged once', async () => {
    const namespace = uniqueNamespace()
    const entity: EntityOptions = { ttl: '1m', l1: false, hot: false }
    const before = await fleet(1, { namespace, entities: { product: entity } })
    await before.caches[0]!.entity('product').get('1', async () => ({ id: '1', price: 9.99 }))
    await before.close()

    const after = await fleet(2, { namespace, entities: { product: { ...entity, schema: Product } } })
    const [a, b] = after.caches as [TierCache, TierCache]
    const loader = vi.fn(async () => ({ id: '1', priceCents: 999 }))
    const reads = await Promise.all(Array.from({ length: 3 }, () => a.entity('product').get('1', loader)))
    for (const value of reads) expect(value).toEqual({ id: '1', priceCents: 999 })
    expect(loader).toHaveBeenCalledTimes(1)
    expect(a.stats().product).toMatchObject({ schemaMismatches: 1, corruptEntries: 0, l2Errors: 0 })
    const logged = warnings(after.loggers[0]!.records, 'entry in L2 does not match the entity schema; removed and reloaded')
    expect(logged).toHaveLength(1)
    expect(logged[0]?.obj).toMatchObject({ id: '1', key: new KeyBuilder(namespace, 'product').valueKey('1') })
    // the new shape is in L2 now, and passes: the other instance reads it without loading
    expect(await b.entity('product').get('1', never)).toEqual({ id: '1', priceCents: 999 })
    expect(b.stats().product).toMatchObject({ l2Hits: 1, schemaMismatches: 0 })
    await after.close()
  })

  it('does not check cached absent values, nor values the loader returns', async () => {
    const { a, b, close } = await twoInstances({ schema: Product })
    expect(await a.entity('product').get('gone', async () => null)).toBeNull()
    expect(await b.entity('product').get('gone', never)).toBeNull()
    // the loader's own value is returned even if it does not fit; the next reader reloads it
    expect(await a.entity('product').get('odd', async () => ({ id: 'odd' }))).toEqual({ id: 'odd' })
    const loader = vi.fn(async () => ({ id: 'odd', priceCents: 1 }))
    expect(await b.entity('product').get('odd', loader)).toEqual({ id: 'odd', priceCents: 1 })
    expect(b.stats().product?.schemaMismatches).toBe(1)
    await close()
  })

  it('a schema that throws counts as a mismatch: the value is reloaded, not handed out unchecked', async () => {
    const throwing = {
      safeParse(): { success: boolean } {
        throw new Error('broken schema')
      },
    }
    const { b, close } = await twoInstances({ schema: throwing })
    const loader = vi.fn(async () => ({ id: 'keep', reloaded: true }))
    expect(await b.entity('product').get('keep', loader)).toEqual({ id: 'keep', reloaded: true })
    expect(b.stats().product?.schemaMismatches).toBe(1)
    await close()
  })

  it('checks hot-key replicas too: an old shape on a replica is never served and is removed', async () => {
    const namespace = uniqueNamespace()
    const entity: EntityOptions = { ttl: '1m', l1: false, hot: { keys: ['viral'], l1Ttl: 0 } }
    const keys = new KeyBuilder(namespace, 'product')
    const store = redisClusterStore({ nodes: testCluster().seeds() })
    await store.get('warm-up: loads the slot map')
    const replicaKeys = store.spreadKeys((n) => keys.replicaKey('viral', n), 8)
    expect(replicaKeys.length).toBeGreaterThan(1)

    const before = await fleet(1, { namespace, entities: { product: entity } })
    await before.caches[0]!.entity('product').get('viral', async () => ({ id: 'viral', price: 1 }))
    await eventually(async () => (await Promise.all(replicaKeys.map((k) => cluster.client.exists(k)))).every((n) => n === 1))
    await before.close()

    const after = await fleet(1, { namespace, entities: { product: { ...entity, schema: Product } } })
    const products = after.caches[0]!.entity('product')
    const loader = vi.fn(async () => ({ id: 'viral', priceCents: 100 }))
    // enough reads to land on every replica at least once (each read picks one at random)
    for (let i = 0; i < 40; i++) expect(await products.get('viral', loader)).toEqual({ id: 'viral', priceCents: 100 })
    expect(loader).toHaveBeenCalledTimes(1)
    for (const key of [keys.valueKey('viral'), ...replicaKeys]) {
      const value = await cluster.client.get(key)
      if (value !== null) expect(value).not.toContain('"price":1')
    }
    expect(after.caches[0]!.stats().product?.schemaMismatches).toBeGreaterThanOrEqual(2)
    await store.close()
    await after.close()
  })
})
