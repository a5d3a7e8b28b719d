import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import type { TierCache } from '@tiercache/core'
import express, { type Request, type Response } from 'express'
import { httpCache, invalidateOnWrite, setCachePolicy } from '../src/index.js'
import { describeHttpCacheCases } from './http-cases.js'
import { describeHttpFuzzCases } from './http-fuzz-cases.js'
import type { AppSpec, HttpDriver, RunningApp, TestReply } from './http-harness.js'

function write(res: Response, reply: TestReply): void {
  if (reply.policy !== undefined) setCachePolicy(res, reply.policy)
  res.status(reply.status ?? 200)
  for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value)
  const body = reply.body
  if (body instanceof Readable) body.pipe(res)
  else if (typeof body === 'string' || Buffer.isBuffer(body)) res.send(body)
  else if (body === undefined) res.end()
  else res.json(body)
}

/** Builds the spec as an Express 5 app: route-level `httpCache`/`invalidateOnWrite`, `defaults` as a global `app.use(httpCache(...))`. */
export const expressDriver: HttpDriver = {
  name: 'express',
  async start(cache: TierCache, spec: AppSpec): Promise<RunningApp> {
    const app = express()
    if (spec.defaults !== undefined) {
      // Routes that opt out, or bring their own options, are skipped by the global default.
      const own = new Set(spec.routes.filter((route) => route.cache !== undefined).map((route) => route.path))
      app.use(httpCache(cache, { ...spec.defaults, skip: (req) => own.has(req.path) }))
    }
    for (const route of spec.routes) {
      const middlewares = []
      if (route.cache !== undefined && route.cache !== false)
        middlewares.push(httpCache(cache, { ...spec.defaults, ...route.cache } as never))
      if (route.invalidates !== undefined) middlewares.push(invalidateOnWrite(cache, { invalidates: route.invalidates }))
      const method = route.method.toLowerCase() as 'get' | 'post' | 'put' | 'delete'
      app[method](route.path, ...middlewares, async (req: Request, res: Response) => {
        const reply = await route.handler({
          method: req.method,
          params: req.params as Record<string, string>,
          query: req.query as Record<string, unknown>,
          headers: req.headers,
        })
        write(res, reply)
      })
    }
    const server = await new Promise<Server>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening))
    })
    const { port } = server.address() as AddressInfo
    return {
      url: `http://127.0.0.1:${port}`,
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections()
          server.close(() => resolve())
        }),
    }
  },
}

describeHttpCacheCases(expressDriver)
describeHttpCacheCases(expressDriver, { l1Only: true })
describeHttpFuzzCases(expressDriver)
