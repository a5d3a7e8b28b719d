import { createCache, namespaceKeyPrefixes } from '@tiercache/core'
import { TEST_L2_TIMEOUT, testCluster } from '@tiercache/testkit'
import { Cluster } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { redisClusterStore, redisStore } from '../src/index.js'
import { scanPatterns } from '../src/prefix-unlink.js'
import { eventually, fleet, uniqueNamespace } from './engine/helpers.js'

const TTL_MS = 600_000

let writer: Cluster
beforeAll(() => {
  writer = new Cluster(testCluster().seeds(), { enableAutoPipelining: true })
})
afterAll(async () => {
  await writer?.quit()
})

/** Writes keys in chunks (auto-pipelined, so one write per node per chunk). */
async function writeKeys(keys: readonly string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 10_000) {
    await Promise.all(keys.slice(i, i + 10_000).map((key) => writer.set(key, 'v', 'PX', TTL_MS)))
  }
}

async function masterPorts(): Promise<number[]> {
  return (await testCluster().masters()).map((master) => master.port)
}

async function sumOver(ports: readonly number[], read: (port: number) => Promise<number>): Promise<number> {
  return (await Promise.all(ports.map(read))).reduce((sum, n) => sum + n, 0)
}

async function commandCalls(port: number, command: string): Promise<number> {
  const info = String(await testCluster().command(port, ['INFO', 'commandstats']))
  return Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0)
}

/** Every key of the namespace still on the masters, found with a full SCAN of each. */
async function keysLeft(namespace: string): Promise<string[]> {
  const prefixes = namespaceKeyPrefixes(namespace)
  const left: string[] = []
  for (const port of await masterPorts()) {
    let cursor = '0'
    do {
      const [next, keys] = (await testCluster().command(port, ['SCAN', cursor, 'COUNT', 10_000], { timeoutMs: 10_000 })) as [
        string,
        string[],
      ]
      cursor = next
      left.push(...keys.filter((key) => prefixes.some((prefix) => key.startsWith(prefix))))
    } while (cursor !== '0')
  }
  return left
}

describe('cache.clear() on the cluster', () => {
  it('deletes 100,000 keys of every shape of the namespace with SCAN and UNLINK, never KEYS, and nothing else', async () => {
    const namespace = uniqueNamespace()
    const keys: string[] = []
    for (let i = 0; i < 96_000; i++) keys.push(`{${namespace}:product:${i}}`)
    for (let i = 0; i < 1_000; i++) keys.push(`{${namespace}:product:${i}}:lock`)
    // Ids that carry their own hash tag, with their locks.
    for (let i = 0; i < 1_000; i++) keys.push(`${namespace}:product:{user${i}}:cart`, `${namespace}:product!lock:{user${i}}:cart`)
    for (let i = 0; i < 500; i++) keys.push(`{${namespace}!hot:product:${i % 8}:${i}}`)
    for (let i = 0; i < 500; i++) keys.push(`{${namespace}!tag:category:${i}}`)
    expect(keys).toHaveLength(100_000)
    // Keys of other namespaces, one of which has this namespace as a prefix, and a key that merely mentions it.
    const survivors = [
      ...Array.from({ length: 500 }, (_, i) => `{${namespace}x:product:${i}}`),
      ...Array.from({ length: 100 }, (_, i) => `${namespace}x:product:{u${i}}`),
      ...Array.from({ length: 100 }, (_, i) => `{${namespace}x!tag:t${i}}`),
      `{${namespace}}:not-a-cache-key`,
      `x{${namespace}:product:1}`,
    ]
    await writeKeys([...keys, ...survivors])
    const masters = await masterPorts()
    const dbsize = (port: number) => testCluster().command(port, ['DBSIZE']) as Promise<number>
    const before = await sumOver(masters, dbsize)
    expect(before).toBe(keys.length + survivors.length)
    await Promise.all(masters.map((port) => testCluster().command(port, ['CONFIG', 'RESETSTAT'])))

    const cache = createCache({
      namespace,
      l2: redisClusterStore({ nodes: testCluster().seeds() }),
      l2Timeout: TEST_L2_TIMEOUT,
      entities: { product: { ttl: '1m' } },
    })
    await cache.ready()
    const started = performance.now()
    const deleted = await cache.clear()
    const elapsedMs = performance.now() - started
    console.info(`cache.clear() on the 3-master test cluster: ${deleted} keys deleted in ${Math.round(elapsedMs)} ms`)
    await cache.close()

    expect(deleted).toBe(keys.length)
    expect(await keysLeft(namespace)).toEqual([])
    expect(await sumOver(masters, dbsize)).toBe(survivors.length)
    const survivorValues = await Promise.all(survivors.map((key) => writer.get(key)))
    expect(survivorValues.every((value) => value === 'v')).toBe(true)
    expect(await sumOver(masters, (port) => commandCalls(port, 'keys'))).toBe(0)
    expect(await sumOver(masters, (port) => commandCalls(port, 'scan'))).toBeGreaterThanOrEqual(masters.length)
    // Batches of about a thousand keys per SCAN, each UNLINKed per slot: many UNLINKs, none with everything.
    expect(await sumOver(masters, (port) => commandCalls(port, 'unlink'))).toBeGreaterThan(100)
    // Writing, counting and clearing 100,000 keys is real work for the cluster: under `pnpm test:stress`
    // it ran past the default 30 s test timeout. A deadline for a heavy test, not a bound it checks.
  }, 120_000)

  it('drops the L1 entries of every instance, and loads in flight do not put their values back', async () => {
    const namespace = uniqueNamespace()
    const { caches, close } = await fleet(2, { namespace, entities: { product: { ttl: '1m', l1: { ttl: '1m' } } } })
    try {
      const [a, b] = caches as [(typeof caches)[0], (typeof caches)[0]]
      let version = 1
      const loader = async (id: string) => ({ id, version })
      expect(await a.entity('product').get('1', loader)).toEqual({ id: '1', version: 1 })
      expect(await b.entity('product').get('1', loader)).toEqual({ id: '1', version: 1 })
      expect(b.stats().product?.l2Hits).toBe(1)
      version = 2
      expect(await a.clear()).toBeGreaterThanOrEqual(1)
      // b's L1 holds version 1 for another minute: only the bus message can make it reload.
      await eventually(async () => (await b.entity('product').get('1', loader)).version === 2)
      expect(await a.entity('product').get('1', loader)).toEqual({ id: '1', version: 2 })
    } finally {
      await close()
    }
  })

  it('clears a standalone Redis too, and reports 0 for an L1-only cache', async () => {
    const { testStandalone } = await import('@tiercache/testkit')
    const standalone = testStandalone()
    const namespace = uniqueNamespace()
    await standalone.command(['SET', `{${namespace}:product:1}`, 'v'])
    await standalone.command(['SET', `{${namespace}x:product:1}`, 'v'])
    const cache = createCache({
      namespace,
      l2: redisStore({ host: standalone.host, port: standalone.port }),
      l2Timeout: TEST_L2_TIMEOUT,
      entities: { product: { ttl: '1m' } },
    })
    expect(await cache.clear()).toBe(1)
    expect(await standalone.command(['EXISTS', `{${namespace}x:product:1}`])).toBe(1)
    await cache.close()
    const local = createCache({ namespace, entities: { product: { ttl: '1m' } } })
    await local.entity('product').get('1', async () => 'v')
    expect(await local.clear()).toBe(0)
    let loads = 0
    await local.entity('product').get('1', async () => `v${++loads}`)
    expect(loads).toBe(1)
    await local.close()
  })
})

describe('SCAN patterns', () => {
  it('walks once per stem: prefixes that differ in their last character share a pattern', () => {
    expect(scanPatterns(namespaceKeyPrefixes('shop'))).toEqual(['{shop[:!]*', 'shop:*'])
  })

  it('escapes glob characters', () => {
    expect(scanPatterns(['a*b?[c]\\:'])).toEqual(['a\\*b\\?\\[c\\]\\\\:*'])
    expect(scanPatterns(['x-', 'x]', 'x^'])).toEqual(['x[\\-\\]\\^]*'])
  })
})
