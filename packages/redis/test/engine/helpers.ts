import { randomUUID } from 'node:crypto'
import { type CacheOptions, createCache, type Logger, type TierCache } from '@tiercache/core'
import { EVENTUALLY, TEST_L2_TIMEOUT, testCluster } from '@tiercache/testkit'
import { redisClusterStore } from '../../src/index.js'

export interface LogRecord {
  level: string
  obj: Record<string, unknown>
  msg?: string
}

/** A logger that keeps what it is given, so tests can assert on warnings. */
export function recordingLogger(): Logger & { records: LogRecord[] } {
  const records: LogRecord[] = []
  const make = (bindings: object): Logger => ({
    debug: (obj, msg) => records.push({ level: 'debug', obj: { ...bindings, ...obj }, msg }),
    info: (obj, msg) => records.push({ level: 'info', obj: { ...bindings, ...obj }, msg }),
    warn: (obj, msg) => records.push({ level: 'warn', obj: { ...bindings, ...obj }, msg }),
    error: (obj, msg) => records.push({ level: 'error', obj: { ...bindings, ...obj }, msg }),
    child: (more) => make({ ...bindings, ...more }),
  })
  return Object.assign(make({}), { records })
}

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

export function deferred<T>() {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/**
 * Polls `check` every 2 ms until it returns true or `timeoutMs` passes (default: the testkit's
 * generous {@link EVENTUALLY} deadline); resolves with the time it took.
 */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs: number = EVENTUALLY.timeout): Promise<number> {
  const started = performance.now()
  for (;;) {
    if (await check()) return performance.now() - started
    if (performance.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}
