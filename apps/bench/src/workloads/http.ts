import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { NodeAddress } from '@tiercache/testkit'
import autocannon from 'autocannon'
import { median } from '../harness.js'
import { uniqueNamespace } from './common.js'
import type { Framework, HttpServerConfig, HttpServerMessage, HttpServerStats } from './http-protocol.js'

/** Products the load rotates over. */
export const HTTP_PRODUCTS = 100
/** autocannon connections (keep-alive, no pipelining). */
export const HTTP_CONNECTIONS = 32
/** One measured run, and the unrecorded warm-up of each route (s). */
export const HTTP_RUN_S = 3
export const HTTP_WARMUP_S = 1
export const HTTP_RUNS = 3
/** Goal of issue 8: the cached route serves at least this share of the constant route's requests/s. */
export const HTTP_GOAL_RATIO = 0.8
const FRAMEWORKS: readonly Framework[] = ['express', 'fastify']
const ROUTES = [
  { name: 'constant body', path: () => '/constant' },
  { name: 'uncached page', path: (n: number) => `/uncached/products/p${n % HTTP_PRODUCTS}` },
  { name: 'cached page', path: (n: number) => `/cached/products/p${n % HTTP_PRODUCTS}` },
] as const

/** One route's figures. */
export interface HttpRouteFigure {
  route: string
  /** Medians over the runs. */
  requestsPerSec: number
  p99Ms: number
  p50Ms: number
  /** Summed over the runs. */
  errors: number
  non2xx: number
  runs: { requestsPerSec: number; p50Ms: number; p99Ms: number }[]
}

/** One framework's figures. */
export interface HttpFrameworkResult {
  framework: Framework
  routes: HttpRouteFigure[]
  /** Cached page requests/s over constant-body requests/s, per run (same run), and their median. */
  cachedToConstantRatios: number[]
  cachedToConstant: number
  /** `X-Cache` of a cached-route request after the warm-up. */
  xCacheAfterWarmup: string
  /** Handler calls on the cached route during the measured runs (each a miss of the HTTP cache). */
  cachedHandlerCallsMeasured: number
  stats: HttpServerStats
}

/** The HTTP workload's result. */
export interface HttpResult {
  connections: number
  runSeconds: number
  products: number
  pageBytes: number
  frameworks: HttpFrameworkResult[]
}

/**
 * Issue 8's benchmark: autocannon against a demo-like product service, per framework. The server
 * runs in a child process and autocannon in this one, so on a 2-core machine each has a core
 * rather than sharing one event loop. Routes are measured interleaved (constant, uncached, cached,
 * constant, ...), 3 runs each, medians reported; the cached/constant ratio is taken inside each run.
 */
export async function runHttp(seeds: readonly NodeAddress[], children: Set<ChildProcess>): Promise<HttpResult> {
  const frameworks: HttpFrameworkResult[] = []
  let pageBytes = 0
  for (const framework of FRAMEWORKS) {
    const server = await startServer(
      { framework, seeds: [...seeds], namespace: uniqueNamespace('http', framework), products: HTTP_PRODUCTS },
      children,
    )
    try {
      const base = `http://127.0.0.1:${server.port}`
      for (const route of ROUTES) await load(base, route.path, HTTP_WARMUP_S)
      const probe = await fetch(`${base}${ROUTES[2].path(0)}`)
      pageBytes = (await probe.arrayBuffer()).byteLength
      const xCacheAfterWarmup = probe.headers.get('x-cache') ?? '(none)'
      const before = await server.stats()
      const runs = new Map<string, { requestsPerSec: number; p50Ms: number; p99Ms: number; errors: number; non2xx: number }[]>(
        ROUTES.map((r) => [r.name, []]),
      )
      for (let run = 0; run < HTTP_RUNS; run++) {
        for (const route of ROUTES) runs.get(route.name)?.push(await load(base, route.path, HTTP_RUN_S))
      }
      const after = await server.stats()
      const routes = ROUTES.map((route) => {
        const list = runs.get(route.name) ?? []
        return {
          route: route.name,
          requestsPerSec: median(list.map((r) => r.requestsPerSec)),
          p50Ms: median(list.map((r) => r.p50Ms)),
          p99Ms: median(list.map((r) => r.p99Ms)),
          errors: list.reduce((sum, r) => sum + r.errors, 0),
          non2xx: list.reduce((sum, r) => sum + r.non2xx, 0),
          runs: list.map(({ requestsPerSec, p50Ms, p99Ms }) => ({ requestsPerSec, p50Ms, p99Ms })),
        }
      })
      const constant = runs.get('constant body') ?? []
      const cached = runs.get('cached page') ?? []
      const ratios = cached.map((c, i) => c.requestsPerSec / (constant[i]?.requestsPerSec ?? Number.NaN))
      frameworks.push({
        framework,
        routes,
        cachedToConstantRatios: ratios,
        cachedToConstant: median(ratios),
        xCacheAfterWarmup,
        cachedHandlerCallsMeasured: after.cachedHandlerCalls - before.cachedHandlerCalls,
        stats: after,
      })
    } finally {
      await server.stop()
    }
  }
  return { connections: HTTP_CONNECTIONS, runSeconds: HTTP_RUN_S, products: HTTP_PRODUCTS, pageBytes, frameworks }
}

async function load(
  base: string,
  path: (n: number) => string,
  seconds: number,
): Promise<{ requestsPerSec: number; p50Ms: number; p99Ms: number; errors: number; non2xx: number }> {
  let n = 0
  const result = await autocannon({
    url: base,
    connections: HTTP_CONNECTIONS,
    pipelining: 1,
    duration: seconds,
    requests: [
      {
        method: 'GET',
        setupRequest: (request) => ({ ...request, path: path(n++) }),
      },
    ],
  })
  return {
    requestsPerSec: result.requests.total / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  }
}

interface RunningServer {
  port: number
  stats(): Promise<HttpServerStats>
  stop(): Promise<void>
}

async function startServer(config: HttpServerConfig, children: Set<ChildProcess>): Promise<RunningServer> {
  const script = fileURLToPath(new URL('./http-server.js', import.meta.url))
  const child = fork(script, [JSON.stringify(config)], { stdio: 'inherit' })
  children.add(child)
  child.on('exit', () => children.delete(child))
  const next = <T extends HttpServerMessage['type']>(type: T): Promise<Extract<HttpServerMessage, { type: T }>> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`http server: no "${type}" within 30 s`)), 30_000)
      const onMessage = (message: HttpServerMessage): void => {
        if (message.type === 'failed') reject(new Error(`http server failed: ${message.message}`))
        else if (message.type !== type) return
        else resolve(message as Extract<HttpServerMessage, { type: T }>)
        clearTimeout(timer)
        child.off('message', onMessage)
      }
      child.on('message', onMessage)
    })
  const ready = await next('ready')
  return {
    port: ready.port,
    async stats() {
      const reply = next('stats')
      child.send({ type: 'stats' })
      return (await reply).stats
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      if (child.connected) child.disconnect()
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
      await exited
      clearTimeout(timer)
    },
  }
}
