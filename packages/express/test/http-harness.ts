/**
 * The framework-neutral harness of the shared HTTP test table: route specs both drivers turn into
 * an app, a plain `node:http` client (so malformed targets and HEAD go out as written), and a
 * cache on the test cluster. Imported by the Express and the Fastify tests alike; it imports
 * neither framework.
 */
import { randomUUID } from 'node:crypto'
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import type { Readable } from 'node:stream'
import { type CacheOptions, type Clock, createCache, type TierCache } from '@tiercache/core'
import type { HttpCacheOptions, HttpResponsePolicy, Invalidates } from '@tiercache/core/http'
import { redisClusterStore } from '@tiercache/redis'
import { TEST_L2_TIMEOUT, testCluster } from '@tiercache/testkit'

// The shared helpers live once in the testkit; re-exported so the HTTP cases import one module.
export { deferred, eventually } from '@tiercache/testkit'

/** What a test handler sees of the framework's request (both frameworks expose these four). */
export interface TestRequest {
  method: string
  params: Record<string, string>
  query: Record<string, unknown>
  headers: IncomingHttpHeaders
}

/** What a test handler answers; the driver writes it the framework's way. A `Readable` body is streamed. */
export interface TestReply {
  /** The handler's cache policy for this response, set with the framework's `setCachePolicy`. */
  policy?: HttpResponsePolicy
  status?: number
  headers?: Record<string, string | string[]>
  body?: string | Buffer | Readable | Record<string, unknown>
}

export interface TestRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  /** A path both routers read the same way (`/products/:id`). */
  path: string
  /** Route cache options (`httpCache` on the route / `config.cache`), or `false` to opt out of `defaults`. */
  // biome-ignore lint/suspicious/noExplicitAny: options shared by two frameworks' request types
  cache?: Partial<HttpCacheOptions<any>> | false
  // biome-ignore lint/suspicious/noExplicitAny: the same
  invalidates?: Invalidates<any, any>
  handler: (req: TestRequest) => TestReply | Promise<TestReply>
}

export interface AppSpec {
  routes: TestRoute[]
  /** Caching for every GET route (Express: a global `app.use(httpCache(...))`; Fastify: the plugin's `defaults`). */
  // biome-ignore lint/suspicious/noExplicitAny: the same
  defaults?: HttpCacheOptions<any>
}

export interface RunningApp {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  close(): Promise<void>
}

/** Builds and starts one framework's app from a spec, on a free port. */
export interface HttpDriver {
  readonly name: string
  start(cache: TierCache, spec: AppSpec): Promise<RunningApp>
}

export interface HttpReply {
  status: number
  headers: IncomingHttpHeaders
  body: string
  raw: Buffer
}

export interface SendOptions {
  method?: string
  headers?: Record<string, string>
}

/**
 * The `Host` every request carries unless a test sets another: the one public name a load balancer
 * gives every instance (the key holds the Host, and each test app listens on its own port).
 */
export const PUBLIC_HOST = 'shop.test'

/** One request over a new connection, the target sent exactly as given. */
export function send(base: string, target: string, options: SendOptions = {}): Promise<HttpReply> {
  const { hostname, port } = new URL(base)
  const headers = { host: PUBLIC_HOST, ...options.headers }
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path: target, method: options.method ?? 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => {
        const raw = Buffer.concat(chunks)
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: raw.toString('utf8'), raw })
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

/** Starts a request and returns a handle to abort it (the client going away mid-response). */
export function startRequest(base: string, target: string): { abort(): void } {
  const { hostname, port } = new URL(base)
  const req = httpRequest({ host: hostname, port, path: target, headers: { host: PUBLIC_HOST }, agent: false })
  req.on('error', () => {})
  req.end()
  return { abort: () => req.destroy() }
}

export interface TestCacheOptions {
  namespace?: string
  clock?: Clock
  /** No L2: the cache runs in process only (its loads then start synchronously, a path of their own). */
  l1Only?: boolean
}

/** A cache on the test cluster with its own store and connections; a fresh namespace unless one is given (to share it). */
export async function testCache(entities: CacheOptions['entities'], options: TestCacheOptions = {}): Promise<TierCache> {
  const cache = createCache({
    namespace: options.namespace ?? uniqueNamespace(),
    ...(options.l1Only === true ? {} : { l2: redisClusterStore({ nodes: testCluster().seeds() }), l2Timeout: TEST_L2_TIMEOUT }),
    entities,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  })
  await cache.ready()
  return cache
}

export function uniqueNamespace(): string {
  return `h${randomUUID().slice(0, 8)}`
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
