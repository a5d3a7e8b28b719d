import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createCache, KeyBuilder } from '@tiercache/core'
import { testCluster } from '@tiercache/testkit'
import { Cluster } from 'ioredis'
import { describe, expect, it, vi } from 'vitest'
import { redisClusterStore } from '../../src/index.js'
import { fleet, rawClusterClient, recordingLogger, uniqueNamespace } from './helpers.js'

const raw = rawClusterClient()

/**
 * Milliseconds since `start` (a `performance.now()` taken before a write), rounded up, plus 1 for
 * Redis's whole-millisecond clock: a TTL read back after the write has lost at most this much, so
 * the check holds on a machine of any speed and still catches a TTL set wrong by more than that.
 */
function msSince(start: number): number {
  return Math.ceil(performance.now() - start) + 1
}

describe('read-through with a Redis Cluster L2', () => {
  it('a value loaded by one instance is read from L2 by another with its own connections', async () => {
    const namespace = uniqueNamespace()
    const { caches, close } = await fleet(2, { namespace, entities: { product: { ttl: '1m' } } })
    const [a, b] = caches as [NonNullable<(typeof caches)[0]>, NonNullable<(typeof caches)[0]>]
    const loaderA = vi.fn(async (id: string) => ({ id, price: 10 }))
    const loaderB = vi.fn(async (id: string) => ({ id, price: 99 }))
    expect(await a.entity('product').get('p1', loaderA)).toEqual({ id: 'p1', price: 10 })
    expect(await b.entity('product').get('p1', loaderB)).toEqual({ id: 'p1', price: 10 })
    expect(loaderB).not.toHaveBeenCalled()
    expect(b.stats().product).toMatchObject({ l2Hits: 1, l1Hits: 0, loads: 0 })
    expect(await b.entity('product').get('p1', loaderB)).toEqual({ id: 'p1', price: 10 })
    expect(b.stats().product).toMatchObject({ l2Hits: 1, l1Hits: 1 })
    await close()
  })

  it('writes the envelope with PX = ttl + grace, under a hash-tagged key on the slot CLUSTER KEYSLOT gives', async () => {
    const namespace = uniqueNamespace()
    const { caches, close } = await fleet(1, { namespace, entities: { product: { ttl: '10s', grace: '50s' } } })
    const products = caches[0]!.entity<string>('product')
    const writtenAfter = performance.now()
    await products.get('42', async () => 'v')
    await products.get('user{7}:cart', async () => 'v')
    const keys = new KeyBuilder(namespace, 'product')
    const key = keys.valueKey('42')
    expect(key).toBe(`{${namespace}:product:42}`)
    const pttl = await raw.client.pttl(key)
    expect(pttl).toBeGreaterThanOrEqual(60_000 - msSince(writtenAfter))
    expect(pttl).toBeLessThanOrEqual(60_000)
    const cluster = testCluster()
    const master = await cluster.masterForKey(key)
    const slot = Number(await cluster.command(master.port, ['CLUSTER', 'KEYSLOT', key]))
    expect(slot).toBe(cluster.keySlot(`${namespace}:product:42`))
    expect(Number(await cluster.command(master.port, ['CLUSTER', 'KEYSLOT', keys.lockKey('42')]))).toBe(slot)
    // a user hash tag decides the slot
    const tagged = keys.valueKey('user{7}:cart')
    expect(await raw.client.exists(tagged)).toBe(1)
    expect(Number(await cluster.command(master.port, ['CLUSTER', 'KEYSLOT', tagged]))).toBe(cluster.keySlot('7'))
    await close()
  })

  it('getMany reads keys spread over all three masters in one L2 batch and one loader call', async () => {
    const namespace = uniqueNamespace()
    const { caches, close } = await fleet(2, { namespace, entities: { product: { ttl: '1m' } } })
    const ids = Array.from({ length: 60 }, (_, i) => `p${i}`)
    const keys = new KeyBuilder(namespace, 'product')
    const cluster = testCluster()
    const owners = new Set(await Promise.all(ids.map(async (id) => (await cluster.masterForKey(keys.valueKey(id))).port)))
    expect(owners.size).toBe(3)
    const batchA = vi.fn(async (missing: string[]) => missing.map((id) => (id === 'p7' ? null : { id })))
    const first = await caches[0]!.entity('product').getMany(ids, batchA)
    expect(batchA).toHaveBeenCalledTimes(1)
    expect(first[7]).toBeNull()
    expect(first[8]).toEqual({ id: 'p8' })
    const batchB = vi.fn(async (missing: string[]) => missing.map(() => 'wrong'))
    const reordered = [...ids].reverse()
    const second = await caches[1]!.entity('product').getMany(reordered, batchB)
    expect(batchB).not.toHaveBeenCalled()
    expect(second).toEqual([...first].reverse())
    expect(caches[1]!.stats().product?.l2Hits).toBe(60)
    await close()
  })

  it('caches absent results in L2 for negativeTtl', async () => {
    const namespace = uniqueNamespace()
    const { caches, close } = await fleet(2, { namespace, entities: { product: { ttl: '1m', negativeTtl: '5s' } } })
    const writtenAfter = performance.now()
    expect(await caches[0]!.entity('product').get('gone', async () => null)).toBeNull()
    const loader = vi.fn(async () => 'found')
    expect(await caches[1]!.entity('product').get('gone', loader)).toBeNull()
    expect(loader).not.toHaveBeenCalled()
    const pttl = await raw.client.pttl(new KeyBuilder(namespace, 'product').valueKey('gone'))
    expect(pttl).toBeGreaterThanOrEqual(5_000 - msSince(writtenAfter))
    expect(pttl).toBeLessThanOrEqual(5_000)
    await close()
  })

  it('jitter keeps every L2 TTL within [ttl * (1 - jitter), ttl]', async () => {
    const namespace = uniqueNamespace()
    const { caches, close } = await fleet(1, { namespace, entities: { product: { ttl: 100_000, jitter: 0.2 } } })
    const products = caches[0]!.entity<string>('product')
    const ids = Array.from({ length: 50 }, (_, i) => `j${i}`)
    const writtenAfter = performance.now()
    await products.getMany(ids, async (missing) => missing.map(() => 'v'))
    const keys = new KeyBuilder(namespace, 'product')
    const ttls = await Promise.all(ids.map((id) => raw.client.pttl(keys.valueKey(id))))
    const elapsed = msSince(writtenAfter)
    for (const ttl of ttls) {
      expect(ttl).toBeGreaterThanOrEqual(80_000 - elapsed)
      expect(ttl).toBeLessThanOrEqual(100_000)
    }
    expect(new Set(ttls.map((t) => Math.round(t / 1000))).size).toBeGreaterThan(5)
    await close()
  })

  it.each([
    ['another application string', 'hello world'],
    ['truncated JSON', 'tc1|v|1|2|3|0|0|{"a":'],
    ['a wrong envelope version', 'tc9|v|1|2|3|0|0|{}'],
  ])('treats %s in L2 as a miss, deletes it and logs it once', async (_, foreign) => {
    const namespace = uniqueNamespace()
    const logger = recordingLogger()
    const cache = createCache({
      namespace,
      logger,
      l2: redisClusterStore({ nodes: testCluster().seeds() }),
      entities: { product: { ttl: '1m' } },
    })
    const key = new KeyBuilder(namespace, 'product').valueKey('1')
    await raw.client.set(key, foreign)
    const loader = vi.fn(async () => ({ ok: true }))
    expect(await cache.entity('product').get('1', loader)).toEqual({ ok: true })
    expect(loader).toHaveBeenCalledTimes(1)
    const warnings = logger.records.filter((r) => r.msg === 'corrupt entry in L2 removed')
    expect(warnings).toHaveLength(1)
    expect(warnings[0]?.obj).toMatchObject({ id: '1', key })
    expect((await raw.client.get(key))?.startsWith('tc1|v|')).toBe(true)
    expect(cache.stats().product?.corruptEntries).toBe(1)
    await cache.close()
  })

  it('returns a value that cannot be serialized without writing anything to L2', async () => {
    const namespace = uniqueNamespace()
    const { caches, loggers, close } = await fleet(1, { namespace, entities: { product: { ttl: '1m' } } })
    const value = { n: 1n }
    expect(await caches[0]!.entity('product').get('1', async () => value)).toBe(value)
    expect(await raw.client.exists(new KeyBuilder(namespace, 'product').valueKey('1'))).toBe(0)
    expect(await raw.client.exists(new KeyBuilder(namespace, 'product').lockKey('1'))).toBe(0)
    expect(loggers[0]!.records.filter((r) => r.level === 'warn' && r.msg === 'value not cached')).toHaveLength(1)
    await close()
  })

  it('a loader error reaches the caller, releases the lock and is not cached', async () => {
    const namespace = uniqueNamespace()
    const { caches, close } = await fleet(1, { namespace, entities: { product: { ttl: '1m' } } })
    const products = caches[0]!.entity<string>('product')
    await expect(
      products.get('1', async () => {
        throw new Error('db down')
      }),
    ).rejects.toThrowError('db down')
    expect(await raw.client.exists(new KeyBuilder(namespace, 'product').lockKey('1'))).toBe(0)
    expect(await products.get('1', async () => 'ok')).toBe('ok')
    await close()
  })

  it('a process whose cache is closed exits by itself', async () => {
    const script = fileURLToPath(new URL('../fixtures/close-and-exit.mjs', import.meta.url))
    const child = fork(script, [JSON.stringify(testCluster().seeds()), uniqueNamespace()], { stdio: 'pipe' })
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL')
        reject(new Error('the process did not exit within 20 s of cache.close()'))
      }, 20_000)
      child.on('exit', (exitCode) => {
        clearTimeout(timer)
        resolve(exitCode)
      })
    })
    expect(code).toBe(0)
  })

  it('leaves a client passed in open after close', async () => {
    const client = new Cluster(testCluster().seeds())
    const cache = createCache({ namespace: uniqueNamespace(), l2: redisClusterStore({ client }), entities: { product: { ttl: '1m' } } })
    await cache.entity('product').get('1', async () => 'v')
    await cache.close()
    expect(await client.ping()).toBe('PONG')
    await client.quit()
  })
})
