import { type TierCache, TierCacheError } from '@tiercache/core'
import {
  type HttpCacheOptions,
  HttpCacheRoute,
  type Invalidates,
  invalidateAfterWrite,
  resolveInvalidateOnWriteOptions,
} from '@tiercache/core/http'
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler, onSendHookHandler, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { resolvePluginOptions, type TiercachePluginOptions } from './plugin-options.js'
import { type InternalJob, routeCachingHooks } from './route-caching.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The cache given to the tiercache plugin. */
    cache: TierCache
  }
  interface FastifyRequest {
    /** The cache given to the tiercache plugin (the same as `fastify.cache`). */
    cache: TierCache
  }
  interface FastifyContextConfig {
    /**
     * Caches this GET/HEAD route's responses (merged over the plugin's `defaults`), or `false` to
     * opt out of caching by default.
     */
    cache?: Partial<HttpCacheOptions<FastifyRequest>> | false
    /** On a write route: what a 2xx response invalidates, before it is sent. */
    invalidates?: Invalidates<FastifyRequest, FastifyReply>
  }
}

type HookList<H> = H | H[] | undefined

function appendHook<H>(hooks: HookList<H>, hook: H): H[] {
  if (hooks === undefined) return [hook]
  // A new array: Fastify copies route options shallowly for the HEAD route, so the GET route's array must not change under it.
  return Array.isArray(hooks) ? [...hooks, hook] : [hooks, hook]
}

async function tiercachePlugin(fastify: FastifyInstance, rawOptions: TiercachePluginOptions): Promise<void> {
  const { cache, defaults, hook } = resolvePluginOptions(rawOptions)
  fastify.decorate('cache', cache)
  fastify.decorateRequest('cache', {
    getter() {
      return cache
    },
  })
  const jobs = new Map<string, InternalJob>()
  const log = fastify.log.child({ component: 'tiercache' })

  fastify.addHook('onRoute', (routeOptions: RouteOptions) => {
    const config = (routeOptions.config ?? {}) as { cache?: Partial<HttpCacheOptions<FastifyRequest>> | false; invalidates?: unknown }
    const methods = [routeOptions.method].flat().map((m) => String(m).toUpperCase())
    const where = `route ${methods.join(',')} ${routeOptions.url}`
    const routeCache = config.cache
    if (routeCache !== undefined && routeCache !== false && (typeof routeCache !== 'object' || routeCache === null)) {
      throw new TierCacheError('INVALID_CONFIG', `${where} config.cache: expected an object of cache options or false`)
    }
    const readable = methods.some((m) => m === 'GET' || m === 'HEAD')
    if (typeof routeCache === 'object' && !readable) {
      throw new TierCacheError(
        'INVALID_CONFIG',
        `${where} config.cache: only GET and HEAD routes are cached; use config.invalidates on a write route`,
      )
    }
    const cached = routeCache !== false && (routeCache !== undefined || defaults?.entity !== undefined)
    if (cached && readable) {
      const route = new HttpCacheRoute<FastifyRequest>(
        cache,
        { logger: log, ...defaults, ...(routeCache === undefined ? {} : routeCache) },
        `${where} config.cache`,
      )
      const hooks = routeCachingHooks(fastify, route, jobs)
      const serve = hooks.serve as unknown as onRequestHookHandler
      if (hook === 'onRequest') routeOptions.onRequest = appendHook(routeOptions.onRequest, serve)
      else
        routeOptions.preHandler = appendHook(routeOptions.preHandler as HookList<onRequestHookHandler>, serve) as RouteOptions['preHandler']
      routeOptions.onSend = appendHook(routeOptions.onSend, hooks.onSend as unknown as onSendHookHandler)
    }
    if (config.invalidates !== undefined) {
      const { invalidates } = resolveInvalidateOnWriteOptions<FastifyRequest, FastifyReply>(
        { invalidates: config.invalidates },
        `${where} config`,
      )
      const invalidateHook = async (request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> => {
        // The write happened: its response goes out whatever, and a failure is loud in the log.
        await invalidateAfterWrite(
          cache,
          reply.statusCode,
          () => invalidates(request, reply),
          (error) => request.log.error({ err: error }, 'tiercache: invalidation after a successful write failed'),
        )
        return payload
      }
      routeOptions.onSend = appendHook(routeOptions.onSend, invalidateHook as unknown as onSendHookHandler)
    }
  })
}

/**
 * The tiercache Fastify plugin: `fastify.register(tiercache, { cache })`, then per route
 * `config: { cache: { entity: 'productPage' } }` to cache a GET/HEAD route, or
 * `config: { invalidates: (request, reply) => ({ entities: { product: [request.params.id] } }) }`
 * on a write route. Register it before the routes it should see. Decorates `fastify.cache` and
 * `request.cache`. Options are validated at registration, each route's when it is added.
 */
export const tiercache = fp(tiercachePlugin, { fastify: '5.x', name: '@tiercache/fastify' })
