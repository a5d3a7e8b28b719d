import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createCache, isTierCacheError, type TierCache } from '@tiercache/core'
import { describeRemoteStoreConformance, EVENTUALLY, sentinelGroupForFile, TEST_L2_TIMEOUT } from '@tiercache/testkit'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { DoctorReport } from '../src/doctor/doctor.js'
import { type RedisRemoteStore, type RedisStoreHostOptions, redisStore } from '../src/index.js'
import { recordingLogger, steadyLoad, uniqueNamespace } from './engine/helpers.js'

// One primary, two replicas and three Sentinels for this file (down-after 1 s).
const group = sentinelGroupForFile({ replicas: 2, sentinels: 3 })

const closers: (() => Promise<unknown>)[] = []
afterEach(async () => {
  await Promise.allSettled(closers.splice(0).map((close) => close()))
})

function sentinelStore(options: Partial<RedisStoreHostOptions> = {}): RedisRemoteStore {
  return redisStore({ sentinels: group().sentinels(), name: group().masterName, ...options })
}

function tracked(options: Partial<RedisStoreHostOptions> = {}): RedisRemoteStore {
  const store = sentinelStore(options)
  closers.push(() => store.close())
  return store
}

async function resetStats(): Promise<void> {
  await Promise.all(
    group().dataPorts.map((port) =>
      group()
        .command(port, ['CONFIG', 'RESETSTAT'])
        .catch(() => {}),
    ),
  )
}

async function getCalls(ports: readonly number[]): Promise<number> {
  const counts = await Promise.all(
    ports.map(async (port) => {
      const info = String(await group().command(port, ['INFO', 'commandstats']))
      return Number(/^cmdstat_get:calls=(\d+)/m.exec(info)?.[1] ?? 0)
    }),
  )
  return counts.reduce((sum, n) => sum + n, 0)
}

/** Waits until the store's replica connection is up on one of the replicas (reads go to the primary until then). */
async function replicaConnected(replicaPorts: readonly number[]): Promise<void> {
  await vi.waitFor(
    async () => {
      const lists = await Promise.all(replicaPorts.map((port) => group().command(port, ['CLIENT', 'LIST'])))
      expect(lists.some((list) => String(list).includes('name=tiercache:replica'))).toBe(true)
    },
    { timeout: 10_000, interval: 50 },
  )
}

async function replicatedEverywhere(key: string, expected: string, replicaPorts: readonly number[]): Promise<void> {
  await vi.waitFor(async () => {
    for (const port of replicaPorts) expect(await group().command(port, ['GET', key])).toBe(expected)
  }, EVENTUALLY)
}

describeRemoteStoreConformance('redisStore through Sentinel', async () => sentinelStore())

describeRemoteStoreConformance("redisStore through Sentinel, readFrom: 'replicas-for-hot-keys'", async () =>
  sentinelStore({ readFrom: 'replicas-for-hot-keys' }),
)

describe('the Sentinel store', () => {
  it('is named redis-sentinel and checks the primary the Sentinels name', async () => {
    const logger = recordingLogger()
    const store = tracked({ logger })
    expect(store.name).toBe('redis-sentinel')
    const findings = await store.deploymentCheck()
    const primary = await group().primary()
    expect(findings.map((finding) => [finding.code, finding.nodes])).toEqual([
      ['maxmemory-unset', [`127.0.0.1:${primary.port}`]],
      ['noeviction', [`127.0.0.1:${primary.port}`]],
    ])
  })

  it('warns when a single Sentinel is given', async () => {
    const logger = recordingLogger()
    const [sentinel] = group().sentinels()
    if (sentinel === undefined) throw new Error('no Sentinel')
    const store = tracked({ sentinels: [sentinel], logger })
    await store.deploymentCheck()
    expect(logger.records.filter((record) => record.level === 'warn')[0]?.msg).toBe(
      `only one Sentinel given (127.0.0.1:${sentinel.port}): if it is down, the store cannot find the primary; list every Sentinel`,
    )
  })

  it.each([
    [{ sentinels: [{ host: '127.0.0.1', port: 26379 }] }, 'name: give the name the Sentinels monitor'],
    [{ host: '127.0.0.1', readFrom: 'replicas' }, 'readFrom: reading from replicas needs sentinels'],
    [{ sentinels: [{ host: '127.0.0.1', port: 26379 }], name: 'm', role: 'slave' }, 'role: the store writes to the primary'],
    [{ sentinels: [], name: 'm' }, 'sentinels: give at least one Sentinel'],
  ])('rejects %j with INVALID_CONFIG', (options, expected) => {
    let error: unknown
    try {
      redisStore(options as never)
    } catch (thrown) {
      error = thrown
    }
    expect(isTierCacheError(error, 'INVALID_CONFIG')).toBe(true)
    expect((error as Error).message).toContain(expected)
  })
})

describe('readFrom through Sentinel, checked with INFO commandstats', () => {
  it("'replicas' reads from a replica the Sentinels name, writes to the primary", async () => {
    const [primary, replicas] = await Promise.all([group().primary(), group().replicas()])
    const replicaPorts = replicas.map((replica) => replica.port)
    const store = tracked({ readFrom: 'replicas' })
    await replicaConnected(replicaPorts)
    const key = `{${uniqueNamespace()}}:k`
    await store.set(key, 'written on the primary', 60_000)
    await replicatedEverywhere(key, 'written on the primary', replicaPorts)
    await resetStats()
    for (let i = 0; i < 20; i++) expect(await store.get(key)).toBe('written on the primary')
    expect(await getCalls(replicaPorts)).toBe(20)
    expect(await getCalls([primary.port])).toBe(0)
  })

  it("'replicas-for-hot-keys' reads a hot key's copy from a replica and everything else from the primary", async () => {
    const [primary, replicas] = await Promise.all([group().primary(), group().replicas()])
    const replicaPorts = replicas.map((replica) => replica.port)
    const l2 = tracked({ readFrom: 'replicas-for-hot-keys' })
    const namespace = uniqueNamespace()
    const cache = createCache({
      namespace,
      l2,
      l2Timeout: TEST_L2_TIMEOUT,
      entities: { product: { ttl: '1m', l1: false, hot: { keys: ['h'], l1Ttl: 0 } } },
    })
    closers.push(() => cache.close())
    await cache.ready()
    await replicaConnected(replicaPorts)
    const products = cache.entity<{ v: number }>('product')
    expect(await products.get('h', async () => ({ v: 1 }))).toEqual({ v: 1 })
    expect(await products.get('cold', async () => ({ v: 2 }))).toEqual({ v: 2 })
    // One shard, yet one copy: its reads go to the replica connection.
    const copy = `{${namespace}!hot:product:0:h}`
    await vi.waitFor(async () => {
      for (const port of replicaPorts) expect(String(await group().command(port, ['GET', copy]))).toContain('"v":1')
    }, EVENTUALLY)
    await resetStats()
    for (let i = 0; i < 20; i++) expect(await products.get('h', async () => ({ v: -1 }))).toEqual({ v: 1 })
    expect([await getCalls([primary.port]), await getCalls(replicaPorts)]).toEqual([0, 20])
    await resetStats()
    for (let i = 0; i < 10; i++) expect(await products.get('cold', async () => ({ v: -1 }))).toEqual({ v: 2 })
    expect([await getCalls([primary.port]), await getCalls(replicaPorts)]).toEqual([10, 0])
  })
})

describe('tiercache doctor through Sentinel', () => {
  it('asks the Sentinels for the primary, its replicas and the other Sentinels', async () => {
    const [primary, replicas] = await Promise.all([group().primary(), group().replicas()])
    const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url))
    const sentinels = group()
      .sentinels()
      .map((sentinel) => `${sentinel.host}:${sentinel.port}`)
    const run = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [cli, 'doctor', '--sentinels', sentinels.join(','), '--name', group().masterName, '--json'])
      let stdout = ''
      child.stdout.on('data', (chunk) => {
        stdout += chunk
      })
      child.on('error', reject)
      child.on('close', (code) => resolve({ code, stdout }))
    })
    expect(run.code).toBe(1)
    const report = JSON.parse(run.stdout) as DoctorReport
    expect(report.topology).toMatchObject({
      kind: 'sentinel',
      shards: [{ master: `127.0.0.1:${primary.port}`, replicas: replicas.map((r) => `127.0.0.1:${r.port}`).sort() }],
    })
    expect([...report.topology.sentinels].sort()).toEqual([...sentinels].sort())
    expect(report.nodes.map((node) => node.role)).toEqual(['master', 'replica', 'replica'])
    expect(report.findings.map((finding) => finding.code)).toEqual(['maxmemory-unset', 'noeviction'])
  })
})

describe('shards and durable deletes through Sentinel', () => {
  it('is one shard, confirms deletes on a replica, and reports a Sentinel failover (+switch-master) while the old primary still runs', async () => {
    const store = tracked()
    const seen: { shards: readonly string[]; reason: string }[] = []
    store.onTopologyChange((change) => seen.push(change))
    await store.set('{tc-shard}:a', 'v', 60_000)
    expect(store.shardOf('{tc-shard}:a')).toBe('primary')
    expect(store.shardOf('{tc-shard}:b')).toBe('primary')
    expect(await store.deleteDurably(['{tc-shard}:a'])).toEqual({ unconfirmed: [] })
    expect(await store.get('{tc-shard}:a')).toBeNull()
    const old = await group().primary()
    const [sentinel] = group().sentinels()
    if (sentinel === undefined) throw new Error('no Sentinel')
    // A graceful failover: the old primary keeps running (as a replica), so only +switch-master tells the client.
    expect(await group().command(sentinel.port, ['SENTINEL', 'FAILOVER', group().masterName])).toBe('OK')
    await group().waitForFailover(old.port, { timeoutMs: 30_000 })
    await vi.waitFor(() => expect(seen).toEqual([{ shards: ['primary'], reason: 'failover' }]), { timeout: 20_000, interval: 20 })
    await vi.waitFor(async () => expect(await store.deleteDurably(['{tc-shard}:a'])).toEqual({ unconfirmed: [] }), { timeout: 20_000 })
  })
})

describe('failover', () => {
  it('a killed primary costs callers no errors; the bus resubscribes and L2 hits resume on the promoted replica', async () => {
    const namespace = uniqueNamespace()
    const loggers = [recordingLogger(), recordingLogger(), recordingLogger()]
    const caches = loggers.map((logger) =>
      createCache({
        namespace,
        logger,
        l2: sentinelStore(),
        entities: { product: { ttl: '1m', l1: { ttl: 50 } }, profile: { ttl: '10m', l1: { ttl: '10m' } } },
      }),
    )
    closers.push(...caches.map((cache) => () => cache.close()))
    await Promise.all(caches.map((cache) => cache.ready()))
    const load = steadyLoad(caches, 300)
    const l2Hits = () => caches.reduce((sum, cache) => sum + (cache.stats().product?.l2Hits ?? 0), 0)
    await vi.waitFor(() => expect(l2Hits()).toBeGreaterThan(1_000), { timeout: 20_000, interval: 50 })

    const primary = await group().primary()
    const killedAt = performance.now()
    await group().kill(primary.port)
    const hitsAtKill = l2Hits()
    const promoted = await group().waitForFailover(primary.port, { timeoutMs: 30_000 })
    const promotedAt = performance.now()
    // Values written before the kill were replicated: reads find them on the promoted replica.
    await vi.waitFor(() => expect(l2Hits()).toBeGreaterThan(hitsAtKill + 100), { timeout: 30_000, interval: 20 })
    const resumedAt = performance.now()
    await vi.waitFor(
      () => {
        for (const logger of loggers) {
          expect(logger.records.some((record) => record.msg?.startsWith('invalidation bus reconnected'))).toBe(true)
        }
      },
      { timeout: 30_000, interval: 50 },
    )

    // After the failover, an invalidation still reaches the other instances over the bus.
    const [writer, reader] = caches as [TierCache, TierCache]
    let version = 1
    const profile = async () => ({ version })
    expect(await reader.entity('profile').get('p', profile)).toEqual({ version: 1 })
    version = 2
    await writer.entity('profile').invalidate('p')
    // The reader's L1 holds version 1 for ten minutes: only the bus message can make it reload.
    await vi.waitFor(async () => expect(await reader.entity('profile').get('p', profile)).toEqual({ version: 2 }), EVENTUALLY)
    expect(reader.stats().profile?.invalidationsReceived).toBe(1)

    const report = await load.stop()
    const promotionMs = Math.round(promotedAt - killedAt)
    const resumeMs = Math.round(resumedAt - killedAt)
    console.info(
      `Sentinel failover under load (3 instances): ${report.served} reads, ${report.errors} errors, ${report.wrong} wrong values; ` +
        `${promoted.port} promoted ${promotionMs} ms after the kill; L2 hits resumed ${resumeMs} ms after the kill`,
    )
    expect(report.errors).toBe(0)
    expect(report.wrong).toBe(0)
    // The documented bound (docs/operations.md): down-after (1 s here) + election + reconnect backoff + breaker cool-down.
    expect(resumeMs).toBeLessThan(15_000)
  }, 90_000)
})
