import { KeyBuilder, type TierCache } from '@tiercache/core'
import { testCluster } from '@tiercache/testkit'
import { describe, expect, it, vi } from 'vitest'
import { redisClusterStore } from '../../src/index.js'
import { eventually, fleet, rawClusterClient, uniqueNamespace } from './helpers.js'

const raw = rawClusterClient()

/** A product whose JSON is about 20 KB. */
function product(id: string) {
  return {
    id,
    variants: Array.from({ length: 200 }, (_, i) => ({ sku: `${id}-${i}`, color: ['red', 'green', 'blue'][i % 3], stock: i % 17 })),
  }
}

const never = vi.fn(async (): Promise<never> => {
  throw new Error('this loader must not run')
})

/** Two instances on the cluster, A compressing the `product` entity, B not (a fleet mid-rollout). */
async function mixedFleet(extra: Record<string, unknown> = {}) {
  const namespace = uniqueNamespace()
  const base = { ttl: '1m', l1: false as const, hot: false as const, ...extra }
  const a = await fleet(1, { namespace, entities: { product: { ...base, compress: { over: '4kb', codec: 'brotli' } } } })
  const b = await fleet(1, { namespace, entities: { product: base } })
  return {
    a: a.caches[0] as TierCache,
    b: b.caches[0] as TierCache,
    loggers: [a.loggers[0], b.loggers[0]],
    keys: new KeyBuilder(namespace, 'product'),
    close: async () => void (await Promise.all([a.close(), b.close()])),
  }
}

describe('compressed values on a real cluster', () => {
  it('a compressing and a non-compressing instance read each other’s entries, compressed ones far smaller in Redis', async () => {
    const { a, b, keys, close } = await mixedFleet()
    await a.entity('product').set('1', product('1'))
    await b.entity('product').set('2', product('2'))
    const compressed = (await raw.client.get(keys.valueKey('1'))) as string
    const plain = (await raw.client.get(keys.valueKey('2'))) as string
    expect(compressed.startsWith('tc1|b|')).toBe(true)
    expect(plain.startsWith('tc1|v|')).toBe(true)
    expect(compressed.length).toBeLessThan(plain.length / 4)
    // Redis's own accounting of the two keys
    const [compressedBytes, plainBytes] = [
      await raw.client.memory('USAGE', keys.valueKey('1')),
      await raw.client.memory('USAGE', keys.valueKey('2')),
    ]
    expect(Number(compressedBytes)).toBeLessThan(Number(plainBytes) / 4)
    for (const reader of [a, b]) {
      expect(await reader.entity('product').get('1', never)).toEqual(product('1'))
      expect(await reader.entity('product').get('2', never)).toEqual(product('2'))
      expect(reader.stats().product).toMatchObject({ l2Hits: 2, loads: 0, corruptEntries: 0 })
    }
    await close()
  })

  it('getMany reads compressed and plain entries across slots in one batch, loading only the missing', async () => {
    const { a, b, close } = await mixedFleet()
    const ids = Array.from({ length: 12 }, (_, i) => `p${i}`)
    for (const [i, id] of ids.entries()) await (i % 2 === 0 ? a : b).entity('product').set(id, product(id))
    const batch = vi.fn(async (missing: string[]) => missing.map((id) => product(id)))
    for (const reader of [a, b]) {
      expect(await reader.entity('product').getMany([...ids, 'new'], batch)).toEqual([...ids, 'new'].map(product))
    }
    expect(batch).toHaveBeenCalledTimes(1)
    expect(batch.mock.calls[0]?.[0]).toEqual(['new']) // (the second argument is the loader context)
    await close()
  })

  it('hot-key replicas hold the compressed envelope, and an instance without compression serves from them', async () => {
    const { a, b, keys, close } = await mixedFleet({ hot: { keys: ['viral'], l1Ttl: 0 } })
    expect(await a.entity('product').get('viral', async () => product('viral'))).toEqual(product('viral'))
    const store = redisClusterStore({ nodes: testCluster().seeds() })
    await store.get('warm-up: loads the slot map')
    const replicaKeys = store.spreadKeys((n) => keys.replicaKey('viral', n), 8)
    await store.close()
    expect(replicaKeys).toHaveLength(3)
    await eventually(async () => (await Promise.all(replicaKeys.map((k) => raw.client.exists(k)))).every((n) => n === 1))
    for (const key of replicaKeys) expect(((await raw.client.get(key)) as string).startsWith('tc1|b|')).toBe(true)
    const before = await getCallsPerMaster()
    for (let i = 0; i < 150; i++) expect(await b.entity('product').get('viral', never)).toEqual(product('viral'))
    const after = await getCallsPerMaster()
    // every master served some of B's reads: the replicas, not only the value key's master
    for (const [port, calls] of after) expect(calls - (before.get(port) ?? 0)).toBeGreaterThan(0)
    expect(b.stats().product).toMatchObject({ loads: 0, corruptEntries: 0 })
    await close()
  })

  it('a damaged compressed entry is a miss for either instance: removed, logged, counted, reloaded', async () => {
    const { a, b, loggers, keys, close } = await mixedFleet()
    await a.entity('product').set('1', product('1'))
    const key = keys.valueKey('1')
    const stored = (await raw.client.get(key)) as string
    await raw.client.set(key, `${stored.slice(0, -40)}${stored.at(-40) === 'A' ? 'B' : 'A'}${stored.slice(-39)}`, 'PX', 60_000)
    const loader = vi.fn(async () => product('1'))
    expect(await b.entity('product').get('1', loader)).toEqual(product('1'))
    expect(loader).toHaveBeenCalledTimes(1)
    const logged = loggers[1]?.records.filter((r) => r.level === 'warn' && r.msg === 'corrupt entry in L2 removed') ?? []
    expect(logged).toHaveLength(1)
    expect(logged[0]?.obj).toMatchObject({ id: '1', key, why: 'the compressed payload does not decompress' })
    expect(b.stats().product).toMatchObject({ corruptEntries: 1, l2Errors: 0 })
    // B does not compress: the reload wrote a plain entry, which A reads
    expect(await raw.client.get(key)).toMatch(/^tc1\|v\|/)
    expect(await a.entity('product').get('1', never)).toEqual(product('1'))
    await close()
  })
})

/** GET calls served by each master so far, from `INFO commandstats`. */
async function getCallsPerMaster(): Promise<Map<number, number>> {
  const cluster = testCluster()
  const calls = new Map<number, number>()
  for (const master of await cluster.masters()) {
    const info = String(await cluster.command(master.port, ['INFO', 'commandstats']))
    calls.set(master.port, Number(/cmdstat_get:calls=(\d+)/.exec(info)?.[1] ?? 0))
  }
  return calls
}
