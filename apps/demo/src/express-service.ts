import { once } from 'node:events'
import { httpCache, invalidateOnWrite } from '@tiercache/express'
import express from 'express'
import {
  DASHBOARD_HTML,
  listeningUrl,
  metricsText,
  PROMETHEUS_CONTENT_TYPE,
  parseCents,
  parseIds,
  productPage,
  type RunningService,
  type ServiceContext,
  type ServiceCounters,
} from './service.js'

/** The catalogue API as an Express 5 app, on `port` (0: a free one). */
export async function startExpressService(context: ServiceContext, port = 0): Promise<RunningService> {
  const { cache, catalog } = context
  const counters: ServiceCounters = { requests: 0, errors: 0 }
  const app = express()
  app.disable('x-powered-by')
  app.use((_req, res, next) => {
    res.on('finish', () => {
      counters.requests++
      if (res.statusCode >= 500) counters.errors++
    })
    next()
  })
  app.use(express.json())

  app.get('/api/products', async (req, res) => {
    const ids = parseIds(req.query.ids)
    if (ids === undefined) return void res.status(400).json({ error: 'give ?ids=1,2,3 (at most 100 product ids)' })
    res.json(await catalog.getProducts(ids))
  })
  app.get('/api/products/:id', async (req, res) => {
    const product = await catalog.getProduct(req.params.id)
    if (product === null) return void res.status(404).json({ error: 'no such product' })
    res.json(product)
  })
  app.get('/api/products/:id/stock', async (req, res) => {
    const stock = await catalog.getStock(req.params.id)
    if (stock === null) return void res.status(404).json({ error: 'no such product' })
    res.json(stock)
  })
  app.get('/api/categories/:id/products', async (req, res) => {
    res.json(await catalog.listByCategory(req.params.id))
  })
  // The cached product page: the whole response is stored, tagged by product.
  app.get(
    '/pages/products/:id',
    httpCache(cache, { entity: 'productPage', tags: (req) => [`product:${req.params.id}`] }),
    async (req, res) => {
      const product = await catalog.getProduct(req.params.id as string)
      if (product === null) return void res.status(404).type('text/plain').send('no such product')
      res.type('html').send(productPage(product))
    },
  )
  // The write: updatePrice invalidates the product and its category listing; the route drops its pages.
  app.put(
    '/api/products/:id/price',
    invalidateOnWrite(cache, { invalidates: (req) => ({ tags: [`product:${req.params.id}`] }) }),
    async (req, res) => {
      const cents = parseCents(req.body)
      if (cents === undefined) return void res.status(400).json({ error: 'give { "cents": <positive integer> }' })
      const product = await catalog.updatePrice(req.params.id as string, cents)
      if (product === null) return void res.status(404).json({ error: 'no such product' })
      res.json(product)
    },
  )
  app.post('/api/products/:id/buy', async (req, res) => {
    const stock = await catalog.buy(req.params.id)
    if (stock === null) return void res.status(409).json({ error: 'sold out or no such product' })
    res.json(stock)
  })

  app.get('/metrics', (_req, res) => {
    res.type(PROMETHEUS_CONTENT_TYPE).send(metricsText(context, counters))
  })
  app.get('/dashboard', (_req, res) => {
    res.type('html').send(DASHBOARD_HTML)
  })
  app.get('/dashboard/data', (_req, res) => {
    res.set('cache-control', 'no-store').json(context.dashboardData())
  })
  app.get('/health', (_req, res) => {
    res.json({ ok: true, instance: context.name, breaker: cache.breakerState() })
  })

  const server = app.listen(port, '127.0.0.1')
  await once(server, 'listening')
  return {
    name: context.name,
    url: listeningUrl(server),
    counters,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
