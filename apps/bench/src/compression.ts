/**
 * What `compress` buys and costs for large values: on a local Redis Cluster of 3 masters (no
 * replicas, so memory is counted once) started by the testkit, one instance per mode writes
 * 10,000 product documents of about 20 KB of JSON each (`set`, 16 in flight), then reads them
 * back as L2 hits (`l1: false`, hot keys off) from 32 concurrent loops picking ids at random.
 * Modes: no compression, brotli (level 5, the default), gzip (level 6) and, where the runtime has
 * it, zstd (level 3). Per mode it prints Redis memory (the growth of `used_memory` summed over the
 * masters, and the sum of `MEMORY USAGE` over the 10,000 keys), the mean `set` time (serializing
 * and compressing included), and L2 hit throughput with p50/p99 latency: the median of `--rounds`
 * runs of `--seconds` each, modes interleaved round by round.
 *
 * Run: pnpm run build && node apps/bench/dist/compression.js [--seconds 3] [--rounds 3]
 */
import { parseArgs } from 'node:util'
import {
  type CompressionCodec,
  compressEnvelope,
  createCache,
  decompressEnvelope,
  type EntityOptions,
  type Envelope,
  type TierCache,
  zstdAvailable,
} from '@tiercache/core'
import { redisClusterStore } from '@tiercache/redis'
import { RedisCluster, seeded } from '@tiercache/testkit'
import { Cluster } from 'ioredis'
import { forEachLimited } from './product.js'

const VALUES = 10_000
const TARGET_BYTES = 20_000
const WRITERS = 16
const READERS = 32

const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '3' }, rounds: { type: 'string', default: '3' } } })
const SECONDS = Number(args.seconds)
const ROUNDS = Number(args.rounds)

interface Mode {
  label: string
  compress: EntityOptions['compress']
}

const MODES: Mode[] = [
  { label: 'none', compress: false },
  { label: 'brotli, level 5 (default)', compress: { over: '4kb', codec: 'brotli' } },
  { label: 'gzip, level 6', compress: { over: '4kb', codec: 'gzip' } },
  ...(zstdAvailable() ? [{ label: 'zstd, level 3', compress: { over: '4kb', codec: 'zstd' } } satisfies Mode] : []),
]

const WORDS =
  'steel bottle insulated lid handle outdoor kitchen travel keeps drinks cold hot hours leak proof powder coated finish dishwasher safe wide mouth fits cup holders ice cubes easy clean strong durable light weight hiking camping office gym daily use capacity litre colour matte gloss bamboo cap silicone seal double wall vacuum condensation free bpa food grade warranty year'.split(
    ' ',
  )

/** A product page document of about 20 KB of JSON: text, specs, variants and reviews, drawn from a seeded PRNG per id. */
function makeDocument(id: string): Record<string, unknown> {
  const random = seeded(Number.parseInt(id.slice(1), 10) + 1)
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T
  const sentence = (words: number) => Array.from({ length: words }, () => pick(WORDS)).join(' ')
  const doc = {
    id,
    sku: `SKU-${id.slice(1).padStart(8, '0')}`,
    title: sentence(6),
    description: Array.from({ length: 4 }, () => sentence(40)).join('. '),
    price: { amount: Math.round(random() * 10_000) / 100, currency: 'EUR' },
    specs: Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`spec${i}`, sentence(3)])),
    variants: [] as unknown[],
    reviews: [] as unknown[],
    updatedAt: new Date(Date.UTC(2026, 0, 1) + Math.floor(random() * 1e10)).toISOString(),
  }
  let size = JSON.stringify(doc).length
  for (let n = 0; size < TARGET_BYTES; n++) {
    const item =
      n % 3 === 2
        ? { author: `user${Math.floor(random() * 100_000)}`, rating: 1 + Math.floor(random() * 5), text: sentence(25) }
        : {
            sku: `${doc.sku}-${n}`,
            color: pick(['black', 'white', 'steel', 'sage', 'navy']),
            size: pick(['0.5l', '0.75l', '1l']),
            stock: Math.floor(random() * 500),
          }
    ;(n % 3 === 2 ? doc.reviews : doc.variants).push(item)
    size += JSON.stringify(item).length + 1
  }
  return doc
}

const ids = Array.from({ length: VALUES }, (_, i) => `p${i}`)
const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN
const median = (values: number[]): number =>
  quantile(
    [...values].sort((a, b) => a - b),
    0.5,
  )
const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1)

const cluster = await RedisCluster.start({ masters: 3, replicasPerMaster: 0 })
const raw = new Cluster(cluster.seeds())

async function usedMemory(): Promise<number> {
  let total = 0
  for (const master of await cluster.masters()) {
    const info = String(await cluster.command(master.port, ['INFO', 'memory']))
    total += Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN)
  }
  return total
}

/**
 * The sum of `MEMORY USAGE` over the namespace's keys, asked of the master holding each (ioredis
 * does not route MEMORY by its key): SCAN each master, then one pipeline of MEMORY USAGE per batch.
 */
async function memoryUsageOf(namespace: string): Promise<number> {
  let total = 0
  let keys = 0
  for (const node of raw.nodes('master')) {
    let cursor = '0'
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', `{${namespace}:*`, 'COUNT', 1000)
      cursor = next
      const pipeline = node.pipeline()
      for (const key of batch) pipeline.memory('USAGE', key)
      for (const [error, bytes] of (await pipeline.exec()) ?? []) {
        if (error !== null) throw error
        total += Number(bytes)
        keys++
      }
    } while (cursor !== '0')
  }
  if (keys !== VALUES) throw new Error(`${namespace}: found ${keys} keys, expected ${VALUES}`)
  return total
}

interface Result {
  mode: Mode
  cache: TierCache
  namespace: string
  memoryDelta: number
  memoryUsage: number
  setMs: number
  reads: { perSecond: number; p50: number; p99: number; misses: number }[]
}

/** Reads random ids as L2 hits from READERS loops for `ms`; checks every value's id. */
async function readRun(cache: TierCache, ms: number, seed: number): Promise<Result['reads'][0]> {
  const docs = cache.entity<{ id: string }>('doc')
  const random = seeded(seed)
  const latencies: number[] = []
  let misses = 0
  const loader = async (id: string) => {
    misses++
    return makeDocument(id) as { id: string }
  }
  const started = performance.now()
  const end = started + ms
  await Promise.all(
    Array.from({ length: READERS }, async () => {
      while (performance.now() < end) {
        const id = ids[Math.floor(random() * VALUES)] as string
        const t = performance.now()
        const value = await docs.get(id, loader)
        latencies.push(performance.now() - t)
        if (value.id !== id) throw new Error(`read ${id}, got ${value.id}`)
      }
    }),
  )
  const elapsed = performance.now() - started
  latencies.sort((a, b) => a - b)
  return { perSecond: (latencies.length / elapsed) * 1000, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), misses }
}

/**
 * One codec at one level on 200 of the documents, in this process alone: mean compress and
 * decompress time per value and mean stored payload (base64) size. Includes brotli's own default
 * level, 11, to show why tiercache does not use it.
 */
function codecCost(codec: CompressionCodec, level: number): string {
  const envelopes: Envelope[] = ids.slice(0, 200).map((id) => ({
    kind: 'v',
    payload: JSON.stringify(makeDocument(id)),
    createdAt: 0,
    freshUntil: 1,
    staleUntil: 1,
    loadMs: 0,
    tags: [],
  }))
  const policy = { codec, level, overBytes: 0 }
  let started = performance.now()
  const packed = envelopes.map((envelope) => compressEnvelope(envelope, policy))
  const compressMs = (performance.now() - started) / envelopes.length
  started = performance.now()
  for (const envelope of packed) decompressEnvelope(envelope, 1024 * 1024)
  const decompressMs = (performance.now() - started) / envelopes.length
  const bytes = packed.reduce((sum, envelope) => sum + envelope.payload.length, 0) / packed.length
  return `| ${codec}, level ${level} | ${Math.round(bytes).toLocaleString('en-US')} | ${(compressMs * 1000).toFixed(0)} µs | ${(decompressMs * 1000).toFixed(0)} µs |`
}

try {
  console.log('| codec | stored payload (base64) bytes, mean | compress per value | decompress per value |')
  console.log('|---|---:|---:|---:|')
  for (const [codec, level] of [['brotli', 11], ['brotli', 5], ['gzip', 6], ...(zstdAvailable() ? [['zstd', 3]] : [])] as [
    CompressionCodec,
    number,
  ][]) {
    codecCost(codec, level) // warm-up
    console.log(codecCost(codec, level))
  }
  console.log('')
  const sample = JSON.stringify(makeDocument('p0'))
  console.log(
    `${VALUES} documents of ${Buffer.byteLength(sample)} bytes of JSON (p0; all >= ${TARGET_BYTES}); Node ${process.versions.node}`,
  )
  const results: Result[] = []
  for (const [index, mode] of MODES.entries()) {
    const namespace = `compression-${index}`
    const cache = createCache({
      namespace,
      l2: redisClusterStore({ nodes: cluster.seeds() }),
      // Generous: this measures throughput on a shared machine, not the reaction to a slow node.
      l2Timeout: '2s',
      entities: { doc: { ttl: '1h', l1: false, hot: false, compress: mode.compress } },
    })
    await cache.ready()
    const docs = cache.entity<Record<string, unknown>>('doc')
    const before = await usedMemory()
    const writeStarted = performance.now()
    await forEachLimited(ids, WRITERS, (id) => docs.set(id, makeDocument(id)))
    const setMs = ((performance.now() - writeStarted) * WRITERS) / VALUES
    const memoryDelta = (await usedMemory()) - before
    const failed = cache.stats().doc?.l2Errors ?? 0
    if (failed > 0) throw new Error(`${mode.label}: ${failed} writes failed; the figures would be wrong`)
    const memoryUsage = await memoryUsageOf(namespace)
    results.push({ mode, cache, namespace, memoryDelta, memoryUsage, setMs, reads: [] })
  }
  for (const result of results) await readRun(result.cache, 500, 99) // warm-up: connections, JIT
  for (let round = 0; round < ROUNDS; round++) {
    for (const result of results) result.reads.push(await readRun(result.cache, SECONDS * 1000, round + 1))
  }
  const base = results[0] as Result
  console.log('')
  console.log(
    '| compression | Redis used_memory growth | sum of MEMORY USAGE | bytes per entry | vs none | set() mean | L2 hits/s (median) | p50 | p99 |',
  )
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const result of results) {
    const best =
      result.reads.find((r) => r.perSecond === median(result.reads.map((x) => x.perSecond))) ?? (result.reads[0] as Result['reads'][0])
    console.log(
      `| ${result.mode.label} | ${mb(result.memoryDelta)} MB | ${mb(result.memoryUsage)} MB | ${Math.round(result.memoryUsage / VALUES)} | ${((100 * result.memoryUsage) / base.memoryUsage).toFixed(0)}% | ${result.setMs.toFixed(2)} ms | ${Math.round(best.perSecond).toLocaleString('en-US')} | ${best.p50.toFixed(2)} ms | ${best.p99.toFixed(2)} ms |`,
    )
  }
  console.log('')
  const misses = results.reduce((sum, r) => sum + r.reads.reduce((n, x) => n + x.misses, 0), 0)
  console.log(`misses over every read run: ${misses} (0: every read was an L2 hit)`)
  console.log(
    `L2 hit runs per mode (reads/s): ${results.map((r) => `${r.mode.label}: ${r.reads.map((x) => Math.round(x.perSecond)).join(', ')}`).join('; ')}`,
  )
  await Promise.all(results.map((result) => result.cache.close()))
} finally {
  await raw.quit()
  await cluster.stop()
}
