import tiercache from '@tiercache/fastify'
import Fastify from 'fastify'
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

type IdParams = { Params: { id: string } }

/** The same catalogue API as a Fastify 5 app, with the tiercache plugin, on `port` (0: a free one). */
export async function startFastifyService(context: ServiceContext, port = 0): Promise<RunningService> {
  const { cache, catalog } = context
  const counters: ServiceCounters = { requests: 0, errors: 0 }
  const app = Fastify({ logger: false })
  app.addHook('onResponse', async (_request, reply) => {
    counters.requests++
    if (reply.statusCode >= 500) counters.errors++
  })
  await app.register(tiercache, { cache })

  app.get<{ Querystring: { ids?: string } }>('/api/products', async (request, reply) => {
    const ids = parseIds(request.query.ids)
    if (ids === undefined) return reply.code(400).send({ error: 'give ?ids=1,2,3 (at most 100 product ids)' })
    return catalog.getProducts(ids)
  })
  app.get<IdParams>('/api/products/:id', async (request, reply) => {
    const product = await catalog.getProduct(request.params.id)
    if (product === null) return reply.code(404).send({ error: 'no such product' })
    return product
  })
  app.get<IdParams>('/api/products/:id/stock', async (request, reply) => {
    const stock = await catalog.getStock(request.params.id)
    if (stock === null) return reply.code(404).send({ error: 'no such product' })
    return stock
  })
  app.get<IdParams>('/api/categories/:id/products', async (request) => catalog.listByCategory(request.params.id))
  // The cached product page: the whole response is stored, tagged by product.
  app.get<IdParams>(
    '/pages/products/:id',
    { config: { cache: { entity: 'productPage', tags: (request) => [`product:${(request.params as { id: string }).id}`] } } },
    async (request, reply) => {
      const product = await catalog.getProduct(request.params.id)
      if (product === null) return reply.code(404).type('text/plain').send('no such product')
      return reply.type('text/html; charset=utf-8').send(productPage(product))
    },
  )
  // The write: updatePrice invalidates the product and its category listing; the route drops its pages.
  app.put<IdParams>(
    '/api/products/:id/price',
    { config: { invalidates: (request) => ({ tags: [`product:${(request.params as { id: string }).id}`] }) } },
    async (request, reply) => {
      const cents = parseCents(request.body)
      if (cents === undefined) return reply.code(400).send({ error: 'give { "cents": <positive integer> }' })
      const product = await catalog.updatePrice(request.params.id, cents)
      if (product === null) return reply.code(404).send({ error: 'no such product' })
      return product
    },
  )
  app.post<IdParams>('/api/products/:id/buy', async (request, reply) => {
    const stock = await catalog.buy(request.params.id)
    if (stock === null) return reply.code(409).send({ error: 'sold out or no such product' })
    return stock
  })

  app.get('/metrics', async (_request, reply) => reply.type(PROMETHEUS_CONTENT_TYPE).send(metricsText(context, counters)))
  app.get('/dashboard', async (_request, reply) => reply.type('text/html; charset=utf-8').send(DASHBOARD_HTML))
  app.get('/dashboard/data', async (_request, reply) => reply.header('cache-control', 'no-store').send(context.dashboardData()))
  app.get('/health', async () => ({ ok: true, instance: context.name, breaker: cache.breakerState() }))

  await app.listen({ port, host: '127.0.0.1' })
  return {
    name: context.name,
    url: listeningUrl(app.server),
    counters,
    close: () => app.close(),
  }
}
