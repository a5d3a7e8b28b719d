import { recordingLogger } from '@tiercache/testkit/helpers'
import { MemoryServer, memoryStore } from '@tiercache/testkit/memory'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { type CacheOptions, createCache, KeyBuilder, ManualClock, type TierCache } from '../../src/index.js'
import { compressText, zstdAvailable } from '../../src/util/compression.js'

/** A product whose JSON is about 20 KB: over any threshold these tests set. */
function product(id: string) {
  return {
    id,
    variants: Array.from({ length: 200 }, (_, i) => ({ sku: `${id}-${i}`, color: ['red', 'green', 'blue'][i % 3], stock: i % 17 })),
  }
}

const opened: TierCache[] = []
afterEach(async () => {
  await Promise.all(opened.splice(0).map((cache) => cache.close()))
})

/**
 * Instances on one in-memory server and one manual clock, each with its own `product` entity
 * options (so one compresses and another does not, as in a fleet mid-rollout). No L1 unless asked.
 */
function instances(...products: CacheOptions['entities'][string][]) {
  const clock = new ManualClock()
  const server = new MemoryServer({ clock })
  const members = products.map((entity) => {
    const logger = recordingLogger()
    const cache = createCache({ namespace: 'test', clock, logger, l2: memoryStore({ server }), entities: { product: entity } })
    opened.push(cache)
    return { cache, logger, products: cache.entity<ReturnType<typeof product> | string>('product') }
  })
  return { clock, server, members, keys: new KeyBuilder('test', 'product') }
}

const never = vi.fn(async (): Promise<never> => {
  throw new Error('this loader must not run')
})

describe('compressed values in L2 (in-memory L2)', () => {
  it('stores a value over the threshold compressed and one under it as before', async () => {
    const { server, members, keys } = instances({ ttl: '1m', l1: false, compress: { over: '4kb' } })
    const [a] = members as [(typeof members)[0]]
    await a.products.set('big', product('big'))
    await a.products.set('small', 'a short value')
    const big = server.read(keys.valueKey('big')) as string
    expect(big.startsWith('tc1|b|')).toBe(true)
    expect(big.length).toBeLessThan(JSON.stringify(product('big')).length / 4)
    expect(server.read(keys.valueKey('small'))).toMatch(/^tc1\|v\|.*\|"a short value"$/)
    expect(await a.products.get('big', never)).toEqual(product('big'))
    expect(await a.products.get('small', never)).toBe('a short value')
  })

  it.each([
    ['an instance without compression reads a compressed entry', { compress: { over: 0, codec: 'gzip' as const } }, {}],
    ['an instance with compression reads an uncompressed entry', {}, { compress: { over: 0 } }],
    ['instances of different codecs read each other', { compress: { codec: 'gzip' as const } }, { compress: { codec: 'brotli' as const } }],
  ])('%s', async (_, writer, reader) => {
    const { members } = instances({ ttl: '1m', l1: false, ...writer }, { ttl: '1m', l1: false, ...reader })
    const [a, b] = members as [(typeof members)[0], (typeof members)[0]]
    await a.products.set('1', product('1'))
    expect(await b.products.get('1', never)).toEqual(product('1'))
    expect(b.cache.stats().product).toMatchObject({ l2Hits: 1, corruptEntries: 0, loads: 0 })
  })

  it('keeps the decoded value in L1: an L1 hit neither reads nor decompresses L2', async () => {
    const { server, members, keys } = instances({ ttl: '1m', l1: { ttl: '30s' }, compress: { over: 0 } })
    const [a] = members as [(typeof members)[0]]
    expect(await a.products.get('1', async () => product('1'))).toEqual(product('1'))
    // Damaged behind the cache's back: only a read of L2 could notice.
    server.write(keys.valueKey('1'), (server.read(keys.valueKey('1')) as string).slice(0, -8), 60_000)
    expect(await a.products.get('1', never)).toEqual(product('1'))
    expect(a.cache.stats().product).toMatchObject({ l1Hits: 1, corruptEntries: 0 })
  })

  it('getMany reads compressed and uncompressed entries of one batch', async () => {
    const { members } = instances({ ttl: '1m', l1: false, compress: { over: '4kb' } }, { ttl: '1m', l1: false })
    const [a, b] = members as [(typeof members)[0], (typeof members)[0]]
    await a.products.set('big', product('big'))
    await a.products.set('small', 'small')
    await b.products.set('plain-big', product('plain-big'))
    const batch = vi.fn(async (ids: string[]) => ids.map((id) => `loaded ${id}`))
    for (const reader of [a, b]) {
      expect(await reader.products.getMany(['big', 'small', 'plain-big', 'new'], batch)).toEqual([
        product('big'),
        'small',
        product('plain-big'),
        'loaded new',
      ])
    }
    expect(batch).toHaveBeenCalledTimes(1)
    expect(batch.mock.calls[0]?.[0]).toEqual(['new']) // (the second argument is the loader context)
  })

  it.each([
    ['a stream cut short', (raw: string) => raw.slice(0, -12)],
    ['a damaged byte', (raw: string) => `${raw.slice(0, -40)}${raw.at(-40) === 'A' ? 'B' : 'A'}${raw.slice(-39)}`],
    ['text that is not base64', (raw: string) => `${raw.slice(0, -10)}!!${raw.slice(-8)}`],
    ['a codec mark on a plain payload', (raw: string) => raw.replace(/^tc1\|g\|/, 'tc1|b|')],
  ])('%s: a miss, removed, logged and counted like other corrupt data, then reloaded', async (_, damage) => {
    const { server, members, keys } = instances({ ttl: '1m', l1: false, compress: { over: 0, codec: 'gzip' } })
    const [a] = members as [(typeof members)[0]]
    await a.products.set('1', product('1'))
    const key = keys.valueKey('1')
    server.write(key, damage(server.read(key) as string), 60_000)
    const loader = vi.fn(async () => product('1'))
    const reads = await Promise.all(Array.from({ length: 3 }, () => a.products.get('1', loader)))
    for (const value of reads) expect(value).toEqual(product('1'))
    expect(loader).toHaveBeenCalledTimes(1)
    const logged = a.logger.records.filter((r) => r.level === 'warn' && r.msg === 'corrupt entry in L2 removed')
    expect(logged).toHaveLength(1)
    expect(logged[0]?.obj).toMatchObject({ id: '1', key, why: 'the compressed payload does not decompress' })
    expect(a.cache.stats().product).toMatchObject({ corruptEntries: 1, l2Errors: 0 })
    // replaced by a good entry, which reads back
    expect(await a.products.get('1', never)).toEqual(product('1'))
  })

  it('refuses to inflate a compressed entry past the reader’s maxValueBytes (a miss, removed)', async () => {
    const { server, members, keys } = instances(
      { ttl: '1m', l1: false, compress: { over: 0 } },
      { ttl: '1m', l1: false, maxValueBytes: 1000 },
    )
    const [a, b] = members as [(typeof members)[0], (typeof members)[0]]
    await a.products.set('1', product('1'))
    expect(await b.products.get('1', async () => 'small')).toBe('small')
    expect(b.cache.stats().product).toMatchObject({ corruptEntries: 1 })
    expect(server.read(keys.valueKey('1'))).toMatch(/"small"$/)
  })

  it.skipIf(zstdAvailable())(
    'a zstd entry (written by a newer Node) on a Node without zstd: a miss, left for the reload to replace',
    async () => {
      const { server, members, keys } = instances({ ttl: '1m', l1: false })
      const [a] = members as [(typeof members)[0]]
      await a.products.set('1', 'plain')
      const key = keys.valueKey('1')
      // what a Node 24 instance writes, the payload being irrelevant here
      server.write(key, (server.read(key) as string).replace(/^tc1\|v\|(.*)"plain"$/, 'tc1|z|$1KLUv/QBYAQAAeA=='), 60_000)
      const loader = vi.fn(async () => 'reloaded')
      expect(await a.products.get('1', loader)).toBe('reloaded')
      expect(a.cache.stats().product).toMatchObject({ corruptEntries: 0, loads: 1 })
      // logged by each read of the key (the read before the lock and the one after it)
      const logged = a.logger.records.filter((r) => r.msg === 'entry in L2 compressed with zstd, which this Node lacks; reloaded')
      expect(logged.length).toBeGreaterThan(0)
      expect(logged[0]).toMatchObject({ level: 'warn', obj: { id: '1', key } })
      expect(server.read(key)).toMatch(/^tc1\|v\|.*"reloaded"$/)
    },
  )

  it.runIf(zstdAvailable())('zstd entries round-trip and are read by an instance configured without compression', async () => {
    const { server, members, keys } = instances({ ttl: '1m', l1: false, compress: { over: 0, codec: 'zstd' } }, { ttl: '1m', l1: false })
    const [a, b] = members as [(typeof members)[0], (typeof members)[0]]
    await a.products.set('1', product('1'))
    expect(server.read(keys.valueKey('1'))).toMatch(/^tc1\|z\|/)
    expect(await b.products.get('1', never)).toEqual(product('1'))
    expect(compressText('x', 'zstd', 3).length).toBeGreaterThan(0)
  })
})
