import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createCache, isTierCacheError, ManualClock, type TierCache } from '@tiercache/core'
import { recordingLogger } from '@tiercache/testkit'
import express, { type Express } from 'express'
import { afterEach, describe, expect, it } from 'vitest'
import { httpCache, invalidateOnWrite } from '../src/index.js'
import { eventually, send } from './http-harness.js'

const servers: Server[] = []
const caches: TierCache[] = []

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
  for (const cache of caches.splice(0)) await cache.close()
})

function l1Cache(clock = new ManualClock()): TierCache {
  const cache = createCache({ namespace: 'express', entities: { page: { ttl: '10s', grace: '1m' }, other: { ttl: '1m' } }, clock })
  caches.push(cache)
  return cache
}

async function listen(app: Express): Promise<string> {
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s))
  })
  servers.push(server)
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

describe('express: httpCache specifics', () => {
  it('lets a route-level httpCache take the requests a global default skips', async () => {
    const cache = l1Cache()
    const app = express()
    app.use(httpCache(cache, { entity: 'page', skip: (req) => req.path === '/special' }))
    app.get('/special', httpCache(cache, { entity: 'other', query: ['q'] }), (req, res) => {
      res.json(req.query)
    })
    app.get('/plain', (req, res) => {
      res.json(req.query)
    })
    const url = await listen(app)
    expect(JSON.parse((await send(url, '/special?q=1&z=2')).body)).toEqual({ q: '1' })
    expect((await send(url, '/special?q=1')).headers['x-cache']).toBe('HIT')
    expect(JSON.parse((await send(url, '/plain?q=1')).body)).toEqual({})
    expect(cache.stats().other?.loads).toBe(1)
    expect(cache.stats().page?.loads).toBe(1)
  })

  it('refreshes a stale response through a mounted sub-application', async () => {
    const clock = new ManualClock()
    const cache = l1Cache(clock)
    let version = 1
    let calls = 0
    const v1 = express.Router()
    v1.get('/items/:id', httpCache(cache, { entity: 'page' }), (req, res) => {
      calls++
      res.send(`item ${req.params.id} v${version}`)
    })
    const sub = express()
    sub.use('/v1', v1)
    const app = express()
    app.use('/api', sub)
    const url = await listen(app)
    expect((await send(url, '/api/v1/items/7')).body).toBe('item 7 v1')
    version = 2
    clock.advance(10_001)
    const stale = await send(url, '/api/v1/items/7')
    expect(stale.headers['x-cache']).toBe('STALE')
    expect(stale.body).toBe('item 7 v1')
    await eventually(async () => (await send(url, '/api/v1/items/7')).body === 'item 7 v2')
    expect(calls).toBe(2)
  })

  it('caches a response written with writeHead and end, headers included', async () => {
    const cache = l1Cache()
    const app = express()
    let calls = 0
    app.get('/raw', httpCache(cache, { entity: 'page' }), (_req, res) => {
      calls++
      res.writeHead(200, 'Fine', { 'content-type': 'text/csv', 'content-language': 'de' })
      res.end('a,b\n1,2\n')
    })
    const url = await listen(app)
    await send(url, '/raw')
    const hit = await send(url, '/raw')
    expect(hit).toMatchObject({ status: 200, body: 'a,b\n1,2\n' })
    expect(hit.headers).toMatchObject({ 'content-type': 'text/csv', 'content-language': 'de', 'x-cache': 'HIT' })
    expect(calls).toBe(1)
  })
})

describe('express: invalidateOnWrite specifics', () => {
  it('sends the response and logs when the invalidation fails', async () => {
    const cache = l1Cache()
    const logger = recordingLogger()
    const app = express()
    app.post('/w', invalidateOnWrite(cache, { invalidates: () => ({ entities: { missing: ['1'] } }), logger }), (_req, res) => {
      res.status(201).send('created')
    })
    const url = await listen(app)
    expect(await send(url, '/w', { method: 'POST' })).toMatchObject({ status: 201, body: 'created' })
    expect(logger.records.filter((record) => record.level === 'error')).toHaveLength(1)
  })

  it('holds back a streamed 2xx response until the invalidation is done', async () => {
    const cache = l1Cache()
    const order: string[] = []
    const app = express()
    app.post(
      '/stream',
      invalidateOnWrite(cache, {
        invalidates: async () => {
          await new Promise((resolve) => setTimeout(resolve, 30))
          order.push('invalidated')
          return { entities: { page: ['x'] } }
        },
      }),
      (_req, res) => {
        res.write('part one, ')
        res.end('part two')
        order.push('handler done')
      },
    )
    const url = await listen(app)
    const reply = await send(url, '/stream', { method: 'POST' })
    expect(reply.body).toBe('part one, part two')
    expect(order).toEqual(['handler done', 'invalidated'])
  })

  it.each([[{}], [{ invalidates: 'product' }], [{ invalidates: () => ({}), extra: 1 }]])(
    'rejects invalid options %j with INVALID_CONFIG',
    (options) => {
      const cache = l1Cache()
      expect(() => invalidateOnWrite(cache, options as never)).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }))
    },
  )

  it('rejects invalid httpCache options when the middleware is made', () => {
    const cache = l1Cache()
    let error: unknown
    try {
      httpCache(cache, { entity: 'page', varyHeaders: ['a b'] })
    } catch (e) {
      error = e
    }
    expect(isTierCacheError(error, 'INVALID_CONFIG')).toBe(true)
    expect((error as Error).message).toContain('httpCache options.varyHeaders.0')
  })
})
