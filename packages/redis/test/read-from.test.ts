import { createCache, KeyBuilder, type RemoteStore, type TierCache } from '@tiercache/core'
import { EVENTUALLY, redisPipeline, TEST_L2_TIMEOUT, testCluster } from '@tiercache/testkit'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { type RedisRemoteStore, redisClusterStore } from '../src/index.js'
import { deferred, uniqueNamespace } from './engine/helpers.js'

const closers: (() => Promise<unknown>)[] = []
afterEach(async () => {
  await Promise.allSettled(closers.splice(0).map((close) => close()))
})

function store(readFrom: 'primary' | 'replicas' | 'replicas-for-hot-keys'): RedisRemoteStore {
  const made = redisClusterStore({ nodes: testCluster().seeds(), readFrom })
  closers.push(() => made.close())
  return made
}

function cache(options: Parameters<typeof createCache>[0]): TierCache {
  const made = createCache({ l2Timeout: TEST_L2_TIMEOUT, ...options })
  closers.push(() => made.close())
  return made
}

interface Nodes {
  masters: number[]
  replicas: number[]
  /** The replica port of each master port (the test cluster has one replica per master). */
  replicaOf: Map<number, number>
}

async function nodes(): Promise<Nodes> {
  const cluster = testCluster()
  const [masters, replicas] = await Promise.all([cluster.masters(), cluster.replicas()])
  const replicaOf = new Map<number, number>()
  for (const master of masters) {
    const replica = replicas.find((candidate) => candidate.masterId === master.id)
    if (replica !== undefined) replicaOf.set(master.port, replica.port)
  }
  return { masters: masters.map((m) => m.port), replicas: replicas.map((r) => r.port), replicaOf }
}

async function resetStats(): Promise<void> {
  const cluster = testCluster()
  await Promise.all(cluster.seeds().map((seed) => cluster.command(seed.port, ['CONFIG', 'RESETSTAT'])))
}

/** Calls of `command` on the nodes, from `INFO commandstats`. */
async function calls(ports: readonly number[], command: string): Promise<number> {
  const counts = await Promise.all(
    ports.map(async (port) => {
      const info = String(await testCluster().command(port, ['INFO', 'commandstats']))
      return Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0)
    }),
  )
  return counts.reduce((sum, count) => sum + count, 0)
}

/** What the replica node of `key`'s master holds under `key` (a replica read, READONLY). */
async function onReplica(key: string, topology: Nodes): Promise<string | null> {
  const master = await testCluster().masterForKey(key)
  const replica = topology.replicaOf.get(master.port)
  if (replica === undefined) throw new Error(`no replica for ${master.port}`)
  const [, value] = await redisPipeline(replica, [['READONLY'], ['GET', key]])
  if (value instanceof Error) throw value
  return value as string | null
}

/**
 * Writes `value <key>` under every key through `writer`, then waits until the replica of each
 * key's master holds it: replication is asynchronous, and counting replica reads before it has
 * caught up would count misses.
 */
async function writeToReplicas(writer: RemoteStore, keys: readonly string[], topology: Nodes): Promise<void> {
  await Promise.all(keys.map((key) => writer.set(key, `value ${key}`, 60_000)))
  await vi.waitFor(async () => {
    for (const key of keys) expect(await onReplica(key, topology)).toBe(`value ${key}`)
  }, EVENTUALLY)
}

/** Keys with their own hash tags, spread over the slots (and so over the masters). */
function spreadKeys(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `{${prefix}:${i}}`)
}

describe('readFrom on a cluster, checked with INFO commandstats on every node', () => {
  it("'replicas' sends every GET and MGET to replicas and none to masters", async () => {
    const topology = await nodes()
    const reads = store('replicas')
    const prefix = uniqueNamespace()
    const keys = spreadKeys(prefix, 30)
    await writeToReplicas(reads, keys, topology)
    await resetStats()
    for (const key of keys) expect(await reads.get(key)).toBe(`value ${key}`)
    expect(await reads.getMany(keys)).toEqual(keys.map((key) => `value ${key}`))
    expect(await calls(topology.replicas, 'get')).toBe(keys.length)
    expect(await calls(topology.masters, 'get')).toBe(0)
    expect(await calls(topology.replicas, 'mget')).toBeGreaterThan(0)
    expect(await calls(topology.masters, 'mget')).toBe(0)
  })

  it("'primary' (the default) sends every GET to masters", async () => {
    const topology = await nodes()
    const reads = store('primary')
    const keys = spreadKeys(uniqueNamespace(), 10)
    await Promise.all(keys.map((key) => reads.set(key, 'v', 60_000)))
    await resetStats()
    for (const key of keys) await reads.get(key)
    expect(await calls(topology.masters, 'get')).toBe(keys.length)
    expect(await calls(topology.replicas, 'get')).toBe(0)
  })

  it("'replicas-for-hot-keys' sends ordinary GETs to masters and hot-key GETs (getHot) to replicas", async () => {
    const topology = await nodes()
    const reads = store('replicas-for-hot-keys')
    const keys = spreadKeys(uniqueNamespace(), 20)
    await writeToReplicas(reads, keys, topology)
    await resetStats()
    for (const key of keys) expect(await reads.get(key)).toBe(`value ${key}`)
    expect([await calls(topology.masters, 'get'), await calls(topology.replicas, 'get')]).toEqual([keys.length, 0])
    await resetStats()
    for (const key of keys) expect(await reads.getHot(key)).toBe(`value ${key}`)
    expect([await calls(topology.masters, 'get'), await calls(topology.replicas, 'get')]).toEqual([0, keys.length])
  })

  it('serves the reads of a hot key from the replicas of the shards its copies live on', async () => {
    const topology = await nodes()
    const namespace = uniqueNamespace()
    const l2 = store('replicas-for-hot-keys')
    const hot = cache({
      namespace,
      l2,
      entities: { product: { ttl: '1m', l1: false, hot: { keys: ['h'], l1Ttl: 0 } } },
    })
    await hot.ready()
    const products = hot.entity<{ v: number }>('product')
    expect(await products.get('h', async () => ({ v: 1 }))).toEqual({ v: 1 })
    const builder = new KeyBuilder(namespace, 'product')
    const copies = l2.spreadKeys((n) => builder.replicaKey('h', n), 8)
    expect(copies).toHaveLength(topology.masters.length)
    await vi.waitFor(async () => {
      for (const copy of copies) expect(await onReplica(copy, topology)).not.toBeNull()
    }, EVENTUALLY)
    await resetStats()
    for (let i = 0; i < 30; i++) expect(await products.get('h', async () => ({ v: -1 }))).toEqual({ v: 1 })
    expect(hot.stats().product?.l2Hits).toBeGreaterThanOrEqual(30)
    expect(await calls(topology.replicas, 'get')).toBe(30)
    expect(await calls(topology.masters, 'get')).toBe(0)
  })
})

/**
 * The store with every `getHot` reply held until `release` resolves: the read itself happens at
 * once (on a replica, which answers what it has then), only its answer arrives late.
 */
function holdingHotReplies(inner: RemoteStore, release: Promise<void>, onHeld: () => void): RemoteStore {
  return new Proxy(inner, {
    get(target, property) {
      if (property === 'getHot') {
        return async (key: string) => {
          const raw = await (target.getHot as (key: string) => Promise<string | null>).call(target, key)
          onHeld()
          await release
          return raw
        }
      }
      const value = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

describe('replica reads and L1 coherence', () => {
  async function scenario(invalidate: boolean) {
    const topology = await nodes()
    const namespace = uniqueNamespace()
    const entities = { product: { ttl: '1m', l1: { ttl: '1m' }, hot: { keys: ['h'] } } }
    const writerStore = store('replicas-for-hot-keys')
    const writer = cache({ namespace, entities, l2: writerStore })
    const release = deferred<void>()
    let held = 0
    const reader = cache({
      namespace,
      entities,
      // The held reply must not be cut short by the L2 timeout.
      l2Timeout: '10s',
      l2: holdingHotReplies(store('replicas-for-hot-keys'), release.promise, () => held++),
    })
    await Promise.all([writer.ready(), reader.ready()])
    await writer.entity('product').get('h', async () => ({ v: 1 }))
    const builder = new KeyBuilder(namespace, 'product')
    const copies = writerStore.spreadKeys((n) => builder.replicaKey('h', n), 8)
    await vi.waitFor(async () => {
      for (const copy of copies) expect(await onReplica(copy, topology)).toContain('"v":1')
    }, EVENTUALLY)
    const loads: number[] = []
    const reading = reader.entity<{ v: number }>('product').get('h', async () => {
      loads.push(2)
      return { v: 2 }
    })
    await vi.waitFor(() => expect(held).toBe(1), EVENTUALLY)
    if (invalidate) {
      await writer.entity('product').invalidate('h')
      await vi.waitFor(() => expect(reader.stats().product?.invalidationsReceived).toBe(1), EVENTUALLY)
      // The replicas have caught up with the tombstones: what the reader reads next is current.
      await vi.waitFor(async () => {
        for (const copy of copies) expect(await onReplica(copy, topology)).not.toContain('"v":1')
      }, EVENTUALLY)
    }
    release.resolve()
    // A read that started before the invalidation may return the old value (it ran concurrently).
    expect(await reading).toEqual({ v: 1 })
    const l1Hits = reader.stats().product?.l1Hits ?? 0
    const next = await reader.entity<{ v: number }>('product').get('h', async () => {
      loads.push(2)
      return { v: 2 }
    })
    return { next, l1Hit: (reader.stats().product?.l1Hits ?? 0) > l1Hits, loads }
  }

  it('does not let a replica read answered after an invalidation refill L1', async () => {
    const { next, l1Hit, loads } = await scenario(true)
    expect(l1Hit).toBe(false)
    expect(next).toEqual({ v: 2 })
    expect(loads).toEqual([2])
  })

  it('fills L1 from the same held replica read when nothing was invalidated (the check above can fail)', async () => {
    const { next, l1Hit, loads } = await scenario(false)
    expect(l1Hit).toBe(true)
    expect(next).toEqual({ v: 1 })
    expect(loads).toEqual([])
  })
})
