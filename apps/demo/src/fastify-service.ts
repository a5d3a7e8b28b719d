import tiercache from '@tiercache/fastify'
import Fastify, { type FastifyReply } from 'fastify'
import type { ApiReply, RunningService, ServiceContext, ServiceCounters } from './service.js'
import { catalogApi, listeningUrl, opsPages, productPage } from './service.js'

type IdParams = { Params: { id: string } }

function send(reply: FastifyReply, answer: ApiReply): FastifyReply {
  return reply.code(answer.status).send(answer.body)
}

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

  const api = catalogApi(catalog)

  app.get<{ Querystring: { ids?: string } }>('/api/products', async (request, reply) => send(reply, await api.products(request.query.ids)))
  app.get<IdParams>('/api/products/:id', async (request, reply) => send(reply, await api.product(request.params.id)))
  app.get<IdParams>('/api/products/:id/stock', async (request, reply) => send(reply, await api.stock(request.params.id)))
  app.get<IdParams>('/api/categories/:id/products', async (request, reply) => send(reply, await api.category(request.params.id)))
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
    async (request, reply) => send(reply, await api.updatePrice(request.params.id, request.body)),
  )
  app.post<IdParams>('/api/products/:id/buy', async (request, reply) => send(reply, await api.buy(request.params.id)))

  for (const [path, page] of Object.entries(opsPages(context, counters))) {
    app.get(path, async (_request, reply) => {
      if (page.noStore === true) reply.header('cache-control', 'no-store')
      return reply.type(page.contentType).send(page.body())
    })
  }

  await app.listen({ port, host: '127.0.0.1' })
  return {
    name: context.name,
    url: listeningUrl(app.server),
    counters,
    close: () => app.close(),
  }
}
