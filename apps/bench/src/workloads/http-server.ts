import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createCache } from '@tiercache/core'
import { httpCache } from '@tiercache/express'
import { tiercache } from '@tiercache/fastify'
import { redisClusterStore } from '@tiercache/redis'
import express from 'express'
import Fastify from 'fastify'
import { makeProduct, type Product, productIds } from '../product.js'
import type { HttpServerConfig, HttpServerMessage, HttpServerStats } from './http-protocol.js'

// A child process forked by http.ts: a demo-like catalogue service (Express or Fastify) with a
// constant-body route, an uncached product page and the same page cached by tiercache.

/** The JSON product page: the product, related products and reviews (about 2 KB). */
interface ProductPage {
  product: Product
  related: Pick<Product, 'id' | 'name' | 'price' | 'currency'>[]
  reviews: { author: string; rating: number; text: string }[]
}

const send = (message: HttpServerMessage): void => {
  if (process.connected) process.send?.(message, undefined, {}, () => {})
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '') as HttpServerConfig
  const ids = productIds(config.products)
  const catalogue = new Map(ids.map((id) => [id, makeProduct(id)]))
  // The "database": the page is assembled from rows after one I/O turn of the event loop, as a
  // query to an in-memory database would be. A real database costs more, so the uncached figure
  // is an upper bound of what an uncached route serves.
  const loadPage = async (id: string): Promise<ProductPage> => {
    await new Promise<void>((resolve) => setImmediate(resolve))
    const product = catalogue.get(id) ?? makeProduct(id)
    const n = ids.indexOf(id)
    return {
      product,
      related: Array.from({ length: 6 }, (_, i) => {
        const p = catalogue.get(ids[(n + i + 1) % ids.length] as string) as Product
        return { id: p.id, name: p.name, price: p.price, currency: p.currency }
      }),
      reviews: Array.from({ length: 4 }, (_, i) => ({
        author: `customer${(n * 7 + i) % 1000}`,
        rating: 1 + ((n + i) % 5),
        text: `Review ${i} of ${product.name}: keeps water cold through a long day outside, and the lid does not leak.`,
      })),
    }
  }
  const constantBody = JSON.stringify(await loadPage(ids[0] as string))

  const cache = createCache({
    namespace: config.namespace,
    l2: redisClusterStore({ nodes: config.seeds }),
    // The demo's policy for whole product pages.
    entities: { productPage: { ttl: '1m', l1: { ttl: '5s' } } },
  })
  await cache.ready()
  const counters = { cached: 0, uncached: 0 }

  let close: () => Promise<void>
  let port: number
  if (config.framework === 'express') {
    const app = express()
    app.disable('x-powered-by')
    app.get('/constant', (_req, res) => {
      res.type('application/json').send(constantBody)
    })
    app.get('/uncached/products/:id', async (req, res) => {
      counters.uncached++
      res.json(await loadPage(req.params.id))
    })
    app.get('/cached/products/:id', httpCache(cache, { entity: 'productPage' }), async (req, res) => {
      counters.cached++
      res.json(await loadPage(req.params.id as string))
    })
    const server: Server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s))
    })
    port = (server.address() as AddressInfo).port
    close = () => new Promise((resolve) => server.close(() => resolve()))
  } else {
    const app = Fastify()
    await app.register(tiercache, { cache })
    app.get('/constant', (_request, reply) => {
      reply.type('application/json; charset=utf-8').send(constantBody)
    })
    app.get('/uncached/products/:id', async (request) => {
      counters.uncached++
      return loadPage((request.params as { id: string }).id)
    })
    app.get('/cached/products/:id', { config: { cache: { entity: 'productPage' } } }, async (request) => {
      counters.cached++
      return loadPage((request.params as { id: string }).id)
    })
    await app.listen({ port: 0, host: '127.0.0.1' })
    port = (app.server.address() as AddressInfo).port
    close = () => app.close()
  }

  process.on('message', (message: { type: string }) => {
    if (message.type !== 'stats') return
    const s = cache.entity('productPage').stats()
    const stats: HttpServerStats = {
      cachedHandlerCalls: counters.cached,
      uncachedHandlerCalls: counters.uncached,
      l1Hits: s.l1Hits,
      l2Hits: s.l2Hits,
      misses: s.misses,
    }
    send({ type: 'stats', stats })
  })
  process.on('disconnect', () => {
    close()
      .then(() => cache.close())
      .finally(() => process.exit(0))
  })
  send({ type: 'ready', port })
}

main().catch((error: unknown) => {
  send({ type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) })
  process.exit(1)
})
