/**
 * Builds the shared HTTP case table's app specs as real Nest applications: one controller whose
 * routes carry `@Cached()` / `@Invalidates()`, in the module of `TierCacheModule.forRoot`, served
 * over HTTP by Nest's Express or Fastify platform. Two ways of answering: the handler returns its
 * body and Nest sends it (`return`, Nest's usual style, with `@Res({ passthrough: true })` for the
 * status and headers), or the handler writes the whole response itself (`@Res()`).
 */
import 'reflect-metadata'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { Controller, Delete, Get, type INestApplication, Module, Post, Put, Req, Res, StreamableFile, type Type } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { ExpressAdapter } from '@nestjs/platform-express'
import { FastifyAdapter } from '@nestjs/platform-fastify'
import type { TierCache } from '@tiercache/core'
import type { AppSpec, HttpDriver, RunningApp, TestReply, TestRequest } from '../../express/test/http-harness.js'
import { Cached, Invalidates, setCachePolicy, TierCacheModule, type TierCacheModuleOptions } from '../src/index.js'

export type Platform = 'express' | 'fastify'
export type AnswerStyle = 'return' | 'res'

/** The platform response as the driver writes it: Express's `Response` or Fastify's `FastifyReply`. */
interface PlatformResponse {
  raw?: unknown
  status?(code: number): unknown
  code?(code: number): unknown
  setHeader?(name: string, value: string | string[]): unknown
  header?(name: string, value: string | string[]): unknown
  send(body?: unknown): unknown
  json?(body: unknown): unknown
}

function setStatusAndHeaders(res: PlatformResponse, reply: TestReply): void {
  if (reply.policy !== undefined) setCachePolicy(res, reply.policy)
  const fastify = res.raw !== undefined
  const status = reply.status ?? 200
  if (fastify) res.code?.(status)
  else res.status?.(status)
  for (const [name, value] of Object.entries(reply.headers ?? {})) {
    if (fastify) res.header?.(name, value)
    else res.setHeader?.(name, value)
  }
}

/** Nest's usual style: the body is returned, and Nest sends it (a stream or bytes as a `StreamableFile`). */
function returned(res: PlatformResponse, reply: TestReply): unknown {
  setStatusAndHeaders(res, reply)
  const body = reply.body
  if (body instanceof Readable) return new StreamableFile(body)
  if (Buffer.isBuffer(body)) return new StreamableFile(body)
  return body
}

/** The library style: the handler writes the whole response itself. */
function written(res: PlatformResponse, reply: TestReply): void {
  setStatusAndHeaders(res, reply)
  const body = reply.body
  if (body instanceof Readable) {
    if (res.raw !== undefined) res.send(body)
    else body.pipe(res as unknown as NodeJS.WritableStream)
  } else if (typeof body === 'string' || Buffer.isBuffer(body) || body === undefined) res.send(body)
  else if (res.raw !== undefined) res.send(body)
  else res.json?.(body)
}

const VERBS = { GET: Get, POST: Post, PUT: Put, DELETE: Delete } as const

function toTestRequest(req: TestRequest & { raw?: { method?: string } }): TestRequest {
  return { method: req.raw?.method ?? req.method, params: req.params, query: req.query, headers: req.headers }
}

/** One controller holding every route of `spec`, decorated as a user would write it by hand. */
export function controllerFor(spec: AppSpec, style: AnswerStyle): Type {
  class SpecController {}
  const prototype = SpecController.prototype as unknown as Record<string, unknown>
  spec.routes.forEach((route, index) => {
    const name = `route${index}`
    prototype[name] =
      style === 'return'
        ? async (req: TestRequest, res: PlatformResponse) => returned(res, await route.handler(toTestRequest(req)))
        : async (req: TestRequest, res: PlatformResponse) => written(res, await route.handler(toTestRequest(req)))
    Req()(prototype, name, 0)
    Res({ passthrough: style === 'return' })(prototype, name, 1)
    const descriptor = Object.getOwnPropertyDescriptor(prototype, name) as PropertyDescriptor
    VERBS[route.method](route.path)(prototype, name, descriptor)
    if (route.cache !== undefined) Cached(route.cache)(prototype, name, descriptor)
    if (route.invalidates !== undefined) Invalidates(route.invalidates)(prototype, name, descriptor)
  })
  if (spec.defaults !== undefined) Cached(spec.defaults)(SpecController)
  Controller()(SpecController)
  return SpecController
}

/** Creates and starts a Nest application with `controllers`, `imports` and `TierCacheModule.forRoot(options)`, listening on a free port. */
export async function startNest(
  platform: Platform,
  options: TierCacheModuleOptions | DynamicImport,
  controllers: Type[],
  imports: Type[] = [],
): Promise<INestApplication> {
  const tiercache = 'module' in options ? options : TierCacheModule.forRoot(options)
  @Module({ imports: [tiercache, ...imports], controllers })
  class AppModule {}
  const adapter = platform === 'express' ? new ExpressAdapter() : new FastifyAdapter()
  const app = await NestFactory.create(AppModule, adapter, { logger: false, abortOnError: false })
  try {
    await app.listen(0, '127.0.0.1')
  } catch (error) {
    await app.close()
    throw error
  }
  return app
}

/** A dynamic module given as is (`forRootAsync`), rather than `forRoot`'s options. */
type DynamicImport = ReturnType<typeof TierCacheModule.forRootAsync>

export function urlOf(app: INestApplication): string {
  const { port } = (app.getHttpServer() as Server).address() as AddressInfo
  return `http://127.0.0.1:${port}`
}

export function nestDriver(platform: Platform, style: AnswerStyle): HttpDriver {
  return {
    name: `nest on ${platform} (${style === 'return' ? 'returned bodies' : '@Res()'})`,
    async start(cache: TierCache, spec: AppSpec): Promise<RunningApp> {
      const app = await startNest(platform, { cache }, [controllerFor(spec, style)])
      return { url: urlOf(app), close: () => app.close() }
    },
  }
}
