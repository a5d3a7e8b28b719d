import { once } from 'node:events'
import { httpCache, invalidateOnWrite } from '@tiercache/express'
import express, { type Response } from 'express'
import type { ApiReply, RunningService, ServiceContext, ServiceCounters } from './service.js'
import { catalogApi, listeningUrl, opsPages, productPage } from './service.js'

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

  const api = catalogApi(catalog)
  const send = (res: Response, reply: ApiReply) => void res.status(reply.status).json(reply.body)

  app.get('/api/products', async (req, res) => send(res, await api.products(req.query.ids)))
  app.get('/api/products/:id', async (req, res) => send(res, await api.product(req.params.id)))
  app.get('/api/products/:id/stock', async (req, res) => send(res, await api.stock(req.params.id)))
  app.get('/api/categories/:id/products', async (req, res) => send(res, await api.category(req.params.id)))
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
    async (req, res) => send(res, await api.updatePrice(req.params.id as string, req.body)),
  )
  app.post('/api/products/:id/buy', async (req, res) => send(res, await api.buy(req.params.id)))

  for (const [path, page] of Object.entries(opsPages(context, counters))) {
    app.get(path, (_req, res) => {
      if (page.noStore === true) res.set('cache-control', 'no-store')
      res.type(page.contentType).send(page.body())
    })
  }

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
