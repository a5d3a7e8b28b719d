import { createCache, isTierCacheError, type TierCache } from '@tiercache/core'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { INTERNAL_HEADER, tiercache } from '../src/index.js'

const apps: FastifyInstance[] = []
const caches: TierCache[] = []

afterEach(async () => {
  for (const app of apps.splice(0)) await app.close()
  for (const cache of caches.splice(0)) await cache.close()
})

function l1Cache(): TierCache {
  const cache = createCache({ namespace: 'fastify', entities: { page: { ttl: '1m' } } })
  caches.push(cache)
  return cache
}

function app(): FastifyInstance {
  const instance = Fastify()
  apps.push(instance)
  return instance
}

declare module 'fastify' {
  interface FastifyRequest {
    user?: string
  }
}

describe('fastify: the tiercache plugin', () => {
  it('decorates fastify.cache and request.cache with the cache', async () => {
    const cache = l1Cache()
    const fastify = app()
    await fastify.register(tiercache, { cache })
    fastify.get('/same', async (request) => ({ same: request.cache === cache }))
    await fastify.ready()
    expect(fastify.cache).toBe(cache)
    expect((await fastify.inject('/same')).json()).toEqual({ same: true })
  })

  it.each([
    [{}, 'options.cache'],
    [{ cache: {} }, 'options.cache'],
    [{ cache: 'CACHE', hook: 'onSend' }, 'options.hook'],
    [{ cache: 'CACHE', nope: 1 }, 'unknown option "nope"'],
    [{ cache: 'CACHE', defaults: { maxBodyBytes: 0 } }, 'options.defaults.maxBodyBytes'],
  ])('rejects invalid plugin options %j with INVALID_CONFIG', async (options, message) => {
    const cache = l1Cache()
    const given = Object.fromEntries(Object.entries(options).map(([k, v]) => [k, v === 'CACHE' ? cache : v]))
    const fastify = app()
    const error = await fastify.register(tiercache, given as never).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(isTierCacheError(error, 'INVALID_CONFIG')).toBe(true)
    expect((error as Error).message).toContain(message)
  })

  it('rejects a route config.cache that is neither options nor false', async () => {
    const fastify = app()
    await fastify.register(tiercache, { cache: l1Cache() })
    expect(() => fastify.get('/x', { config: { cache: 'page' as never } }, async () => 'x')).toThrow(/config\.cache/)
  })

  it('rejects config.cache on a route without GET or HEAD', async () => {
    const fastify = app()
    await fastify.register(tiercache, { cache: l1Cache() })
    expect(() => fastify.post('/x', { config: { cache: { entity: 'page' } } }, async () => 'x')).toThrow(/only GET and HEAD/)
  })

  it('answers hits from preHandler when told to, so the key can use what an earlier preHandler set', async () => {
    const fastify = app()
    await fastify.register(tiercache, { cache: l1Cache(), hook: 'preHandler' })
    fastify.addHook('preHandler', async (request) => {
      request.user = request.headers.authorization?.slice(7)
    })
    let calls = 0
    fastify.get('/me', { config: { cache: { entity: 'page', key: (request: FastifyRequest) => request.user } } }, async (request) => {
      calls++
      return `hello ${request.user}`
    })
    const ask = (user: string) => fastify.inject({ url: '/me', headers: { authorization: `Bearer ${user}` } })
    expect((await ask('ann')).body).toBe('hello ann')
    expect((await ask('bob')).body).toBe('hello bob')
    const again = await ask('ann')
    expect(again.body).toBe('hello ann')
    expect(again.headers['x-cache']).toBe('HIT')
    expect(calls).toBe(2)
  })

  it('ignores an internal-refresh header sent from outside', async () => {
    const fastify = app()
    await fastify.register(tiercache, { cache: l1Cache() })
    let calls = 0
    fastify.get('/p', { config: { cache: { entity: 'page' } } }, async (request) => {
      calls++
      return `header ${request.headers[INTERNAL_HEADER] ?? 'gone'}`
    })
    const first = await fastify.inject({ url: '/p', headers: { [INTERNAL_HEADER]: 'guess' } })
    expect(first.body).toBe('header gone')
    expect(first.headers['x-cache']).toBe('MISS')
    expect((await fastify.inject({ url: '/p', headers: { [INTERNAL_HEADER]: 'guess' } })).headers['x-cache']).toBe('HIT')
    expect(calls).toBe(1)
  })

  it('sends a write response and logs when its invalidation fails', async () => {
    const logged: unknown[] = []
    const fastify = Fastify({ logger: { level: 'error', stream: { write: (line: string) => logged.push(JSON.parse(line)) } } })
    apps.push(fastify)
    await fastify.register(tiercache, { cache: l1Cache() })
    fastify.post('/w', { config: { invalidates: () => ({ entities: { missing: ['1'] } }) } }, async (_request, reply) =>
      reply.code(201).send('created'),
    )
    const reply = await fastify.inject({ method: 'POST', url: '/w' })
    expect(reply.statusCode).toBe(201)
    expect(reply.body).toBe('created')
    expect(logged).toHaveLength(1)
  })
})
