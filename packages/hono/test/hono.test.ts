import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { serve } from '@hono/node-server'
import type { TierCache } from '@tiercache/core'
import { type Context, Hono } from 'hono'
import { streamText } from 'hono/streaming'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { describeHttpCacheCases } from '../../express/test/http-cases.js'
import { describeHttpFuzzCases } from '../../express/test/http-fuzz-cases.js'
import type { AppSpec, HttpDriver, RunningApp, TestReply, TestRequest } from '../../express/test/http-harness.js'
import { httpCache, invalidateOnWrite, setCachePolicy } from '../src/index.js'

function write(c: Context, reply: TestReply): Response | Promise<Response> {
  if (reply.policy !== undefined) setCachePolicy(c, reply.policy)
  c.status((reply.status ?? 200) as ContentfulStatusCode)
  for (const [name, value] of Object.entries(reply.headers ?? {})) {
    for (const [i, one] of [value].flat().entries()) c.header(name, one, { append: i > 0 })
  }
  const body = reply.body
  // Hono's streaming helper, as a Hono user streams text (it marks the response Transfer-Encoding: chunked).
  if (body instanceof Readable)
    return streamText(c, async (stream) => {
      for await (const chunk of body) await stream.write(String(chunk))
    })
  if (body === undefined) return c.body(null)
  if (typeof body === 'string') return c.body(body)
  if (Buffer.isBuffer(body)) return c.body(new Uint8Array(body))
  return c.json(body)
}

function toTestRequest(c: Context): TestRequest {
  const headers: Record<string, string> = {}
  c.req.raw.headers.forEach((value, name) => {
    headers[name] = value
  })
  return { method: c.req.method, params: c.req.param() as Record<string, string>, query: c.req.query(), headers }
}

/** Builds the spec as a Hono 4 app served by `@hono/node-server`: route-level middleware, `defaults` as `app.use('*', ...)`. */
export const honoDriver: HttpDriver = {
  name: 'hono',
  async start(cache: TierCache, spec: AppSpec): Promise<RunningApp> {
    const app = new Hono()
    // The test table's options read `req.params`, `req.headers` and `req.query` (Express's shape); Hono's are read through `c.req`.
    const adapt = (fn: unknown) => (typeof fn === 'function' ? (c: Context) => fn(toTestRequest(c)) : fn)
    const options = (given: object) => {
      const o = given as Record<string, unknown>
      return {
        ...o,
        ...(o.key === undefined ? {} : { key: adapt(o.key) }),
        ...(o.tags === undefined ? {} : { tags: adapt(o.tags) }),
        ...(o.skip === undefined ? {} : { skip: adapt(o.skip) }),
        app,
      } as never
    }
    if (spec.defaults !== undefined) {
      const own = new Set(spec.routes.filter((route) => route.cache !== undefined).map((route) => route.path))
      const defaults = options(spec.defaults) as { skip?: (c: Context) => boolean }
      app.use(
        '*',
        httpCache(cache, { ...(defaults as object), skip: (c: Context) => own.has(c.req.routePath) || own.has(c.req.path) } as never),
      )
    }
    for (const route of spec.routes) {
      const handlers: ((c: Context, next: () => Promise<void>) => unknown)[] = []
      if (route.cache !== undefined && route.cache !== false) handlers.push(httpCache(cache, options({ ...spec.defaults, ...route.cache })))
      if (route.invalidates !== undefined) {
        const invalidates = route.invalidates
        handlers.push(invalidateOnWrite(cache, { invalidates: (c: Context) => invalidates(toTestRequest(c), c.res) }))
      }
      const handler = async (c: Context) => write(c, await route.handler(toTestRequest(c)))
      ;(app.on as (method: string, path: string, ...chain: unknown[]) => unknown).call(app, route.method, route.path, ...handlers, handler)
    }
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s))
    })
    const { port } = server.address() as AddressInfo
    return {
      url: `http://127.0.0.1:${port}`,
      close: () =>
        new Promise<void>((resolve) => {
          ;(server as { closeAllConnections?: () => void }).closeAllConnections?.()
          server.close(() => resolve())
        }),
    }
  },
}

describeHttpCacheCases(honoDriver)
describeHttpCacheCases(honoDriver, { l1Only: true })
describeHttpFuzzCases(honoDriver)
