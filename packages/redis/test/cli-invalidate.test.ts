import { createCache, KeyBuilder, type TierCache } from '@tiercache/core'
import { testStandalone } from '@tiercache/testkit'
import { describe, expect, it } from 'vitest'
import { redisStore } from '../src/index.js'
import { cliTestFile, seeds, tiercache } from './cli-run.js'
import { eventually, fleet, uniqueNamespace } from './engine/helpers.js'

interface Product {
  id: string
  version: number
  tags: string[]
}

const file = cliTestFile()
const { cleanups } = file

/** A running service: one cache instance on the cluster, with its own connections and bus subscription. */
async function service(namespace: string): Promise<{ cache: TierCache; loads: () => number; read: (id: string) => Promise<Product> }> {
  const { caches, close } = await fleet(1, {
    namespace,
    entities: {
      product: {
        ttl: '10m',
        jitter: 0,
        l1: { ttl: '10m' },
        tags: (_id, value) => (value as Product).tags,
        hot: { keys: ['42'], replicas: 3 },
      },
    },
  })
  cleanups.push(close)
  const cache = caches[0] as TierCache
  let loads = 0
  const read = (id: string) =>
    cache.entity<Product>('product').get(id, async () => {
      loads++
      return { id, version: loads, tags: [`category:${id === '42' ? 7 : 8}`] }
    })
  return { cache, loads: () => loads, read }
}

/** The hot-key copy keys of `id` that exist in L2, with what they hold. */
async function copies(namespace: string, id: string): Promise<string[]> {
  const keys = Array.from({ length: 64 }, (_, n) => new KeyBuilder(namespace, 'product').replicaKey(id, n))
  const values = await Promise.all(keys.map((key) => file.redis.get(key)))
  return values.filter((value): value is string => value !== null)
}

describe('tiercache invalidate (child process) against a running cache instance', () => {
  it('by id: deletes the L2 value, tombstones every hot-key copy, and the other instance drops its L1 entry', async () => {
    const namespace = uniqueNamespace()
    const { cache, loads, read } = await service(namespace)
    await read('42')
    await read('43')
    expect(loads()).toBe(2)
    const valueKey = new KeyBuilder(namespace, 'product').valueKey('42')
    expect(await file.redis.get(valueKey)).not.toBeNull()
    // Copies are written in the background once the declared hot key is loaded: 3, on 3 masters.
    await eventually(async () => (await copies(namespace, '42')).length === 3, 10_000)
    await read('42')
    expect(loads()).toBe(2) // L1 answers

    const run = await tiercache([
      'invalidate',
      '--namespace',
      namespace,
      '--entity',
      'product',
      '--id',
      '42',
      '--id',
      '43',
      '--nodes',
      seeds(),
    ])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.stdout).toBe(
      `invalidated product "42", "43" in namespace "${namespace}": L2 and hot-key copies cleared, published on {${namespace}}!bus\n`,
    )
    expect(await file.redis.get(valueKey)).toBeNull()
    expect(await file.redis.get(new KeyBuilder(namespace, 'product').valueKey('43'))).toBeNull()
    expect(await copies(namespace, '42')).toEqual(['tc1-tombstone', 'tc1-tombstone', 'tc1-tombstone'])
    await eventually(() => cache.stats().product?.invalidationsReceived === 2, 10_000)
    expect((await read('42')).version).toBe(3)
    expect(loads()).toBe(3)
  })

  it('by tag: stamps the tag and every instance treats its entries as misses; --json says what was done', async () => {
    const namespace = uniqueNamespace()
    const { loads, read } = await service(namespace)
    await read('42')
    await read('43')
    expect(loads()).toBe(2)

    const run = await tiercache([
      'invalidate',
      '--namespace',
      namespace,
      '--tag',
      'category:7',
      '--nodes',
      seeds(),
      '--lifetime',
      '1h',
      '--json',
    ])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(JSON.parse(run.stdout)).toEqual({
      namespace,
      ids: [],
      tags: ['category:7'],
      channel: `{${namespace}}!bus`,
      failures: [],
      ok: true,
    })
    // The stamp lives twice --lifetime, as a service's own stamps live twice its longest ttl + grace.
    const stampTtl = await file.redis.pttl(`{${namespace}!tag:category:7}`)
    expect(stampTtl).toBeGreaterThan(3_600_000)
    expect(stampTtl).toBeLessThanOrEqual(7_200_000)
    await eventually(async () => (await read('42')).version === 3, 10_000)
    expect((await read('43')).version).toBe(2) // another tag: untouched
    expect(loads()).toBe(3)
  })

  it('says so and exits 3 when Redis cannot be reached', async () => {
    const run = await tiercache(['invalidate', '--namespace', 'shop', '--entity', 'product', '--id', '42', '--nodes', '127.0.0.1:1'])
    expect(run.code).toBe(3)
    expect(run.stdout).toBe('')
    expect(run.stderr).toMatch(/^tiercache invalidate: no seed node answered: 127\.0\.0\.1:1 \(.*ECONNREFUSED.*\)\n$/)
  })
})

describe('tiercache invalidate and get (child processes) on a standalone Redis, through --url', () => {
  it('invalidates an id that a running instance holds, and get shows the entry before and says it is missing after', async () => {
    const standalone = testStandalone()
    const url = `redis://${standalone.host}:${standalone.port}`
    const namespace = uniqueNamespace()
    const cache = createCache({
      namespace,
      l2: redisStore({ host: standalone.host, port: standalone.port }),
      entities: { product: { ttl: '10m', l1: { ttl: '10m' } } },
    })
    cleanups.push(() => cache.close())
    await cache.ready()
    let loads = 0
    const read = () =>
      cache.entity<{ version: number }>('product').get('42', async () => {
        loads++
        return { version: loads }
      })
    await read()

    const before = await tiercache(['get', '--namespace', namespace, '--entity', 'product', '--id', '42', '--url', url, '--json'])
    expect(before.code).toBe(0)
    expect(JSON.parse(before.stdout)).toMatchObject({
      state: 'entry',
      master: `${standalone.host}:${standalone.port}`,
      envelope: { payload: '{"version":1}' },
      replicas: [],
      replicaCandidates: 1,
    })

    const run = await tiercache(['invalidate', '--namespace', namespace, '--entity', 'product', '--id', '42', '--url', url])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    await eventually(() => cache.stats().product?.invalidationsReceived === 1, 10_000)
    expect((await read()).version).toBe(2)

    await cache.entity('product').invalidate('42') // this instance's own: the entry is gone from L2 again
    const after = await tiercache(['get', '--namespace', namespace, '--entity', 'product', '--id', '42', '--url', url])
    expect(after.code).toBe(1)
    expect(after.stdout).toMatch(
      new RegExp(
        `^no entry for product "42" in namespace "${namespace}" \\(key \\{${namespace}:product:42\\}, slot \\d+ on ${standalone.host}:${standalone.port}\\)\n`,
      ),
    )
  })
})
