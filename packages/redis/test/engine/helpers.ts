import { randomUUID } from 'node:crypto'
import { type CacheOptions, createCache, type TierCache } from '@tiercache/core'
import { recordingLogger, TEST_L2_TIMEOUT, testCluster } from '@tiercache/testkit'
import { Cluster } from 'ioredis'
import { afterAll, beforeAll } from 'vitest'
import { redisClusterStore } from '../../src/index.js'

/** A unique namespace per test, so tests never see each other's keys. */
export function uniqueNamespace(): string {
  return `t${randomUUID().slice(0, 8)}`
}

/**
 * Creates `count` cache instances on the test cluster, each with its own store and its own
 * connections, as separate service instances would have. Closed by the returned `close`. Their
 * `l2Timeout` is {@link TEST_L2_TIMEOUT} unless `options` names one (failover tests keep 50 ms).
 */
export async function fleet(
  count: number,
  options: Omit<CacheOptions, 'l2'>,
): Promise<{ caches: TierCache[]; loggers: ReturnType<typeof recordingLogger>[]; close: () => Promise<void> }> {
  const seeds = testCluster().seeds()
  const loggers = Array.from({ length: count }, () => recordingLogger())
  const caches = loggers.map((logger) =>
    createCache({ logger, l2Timeout: TEST_L2_TIMEOUT, ...options, l2: redisClusterStore({ nodes: seeds }) }),
  )
  await Promise.all(caches.map((cache) => cache.ready()))
  return { caches, loggers, close: async () => void (await Promise.all(caches.map((cache) => cache.close()))) }
}

/**
 * A {@link fleet} for a test of Redis failures: on a fresh namespace, with the production default
 * L2 timeout (50 ms), since what a failure costs callers with it is what such a test is about
 * (reads must not wait on a dead node for longer). Also gives the test cluster to break.
 */
export async function failureFleet(count: number, options: Omit<CacheOptions, 'l2' | 'namespace' | 'l2Timeout'>) {
  const namespace = uniqueNamespace()
  const made = await fleet(count, { namespace, l2Timeout: 50, ...options })
  return { ...made, namespace, cluster: testCluster() }
}

/**
 * A plain ioredis client on the test cluster for the calling test file, to read and plant keys
 * behind the cache's back: opened before the file's tests, closed after them.
 */
export function rawClusterClient(): { readonly client: Cluster; keysContaining(text: string): Promise<string[]> } {
  let client: Cluster | undefined
  beforeAll(() => {
    client = new Cluster(testCluster().seeds())
  })
  afterAll(async () => {
    await client?.quit()
  })
  const opened = (): Cluster => {
    if (client === undefined) throw new Error('rawClusterClient: use the client inside a test or hook')
    return client
  }
  return {
    get client() {
      return opened()
    },
    /** Every key on the cluster whose name contains `text`, sorted. */
    async keysContaining(text) {
      const keys = await Promise.all(
        opened()
          .nodes('master')
          .map((node) => node.keys(`*${text}*`)),
      )
      return keys.flat().sort()
    },
  }
}

/** What {@link steadyLoad} saw: values served, errors, wrong values, and the slowest read (ms). */
export interface LoadReport {
  served: number
  errors: number
  wrong: number
  maxMs: number
}

/**
 * Steady load from every instance: each reads ids 0..keys-1 in turn, checking every value,
 * until `stop()` is called, which resolves with the report; `loaderCalls.n` counts the loads.
 * Errors are counted, never thrown. `report` counts as the load runs, so a test can wait for a
 * number of reads instead of sleeping for a time that fits some number of them.
 */
export function steadyLoad(
  caches: readonly TierCache[],
  keys: number,
  loaderCalls: { n: number } = { n: 0 },
): { readonly report: LoadReport; stop(): Promise<LoadReport> } {
  const report: LoadReport = { served: 0, errors: 0, wrong: 0, maxMs: 0 }
  let stopped = false
  const loader = async (id: string) => {
    loaderCalls.n++
    return { id, name: `product ${id}` }
  }
  const running = Promise.all(
    caches.map(async (cache, c) => {
      const products = cache.entity<{ id: string; name: string }>('product')
      for (let i = c; !stopped; i++) {
        const id = String(i % keys)
        const started = performance.now()
        try {
          const value = await products.get(id, loader)
          if (value?.id !== id || value.name !== `product ${id}`) report.wrong++
          report.served++
        } catch {
          report.errors++
        }
        report.maxMs = Math.max(report.maxMs, performance.now() - started)
        if (i % 20 === 0) await new Promise((resolve) => setImmediate(resolve))
      }
    }),
  ).then(() => report)
  return {
    report,
    stop() {
      stopped = true
      return running
    },
  }
}

// The shared helpers live once in the testkit; re-exported so these tests import one module.
export { deferred, eventually, heldLoader, type LogRecord, recordingLogger } from '@tiercache/testkit'
