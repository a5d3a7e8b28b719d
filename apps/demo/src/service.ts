import { readFileSync } from 'node:fs'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { PROMETHEUS_CONTENT_TYPE, type TierCache } from '@tiercache/core'
import type { Catalog } from './catalog.js'
import type { Product } from './repository.js'

/** What both services (Express and Fastify) are built from. */
export interface ServiceContext {
  /** `express` or `fastify`: the instance's name in metrics and on the dashboard. */
  readonly name: string
  readonly cache: TierCache
  readonly catalog: Catalog
  /** Queries the shared database has run (for `/metrics`). */
  dbQueries(): number
  /** The dashboard's JSON (`/dashboard/data`). */
  dashboardData(): unknown
}

/** Counts of one running service. */
export interface ServiceCounters {
  requests: number
  errors: number
}

/** A service listening on a port. */
export interface RunningService {
  readonly name: string
  readonly url: string
  readonly counters: ServiceCounters
  close(): Promise<void>
}

/** The dashboard page: one static HTML file with its script inline, no build step. */
const DASHBOARD_HTML = readFileSync(new URL('../public/dashboard.html', import.meta.url), 'utf8')

/** A page the service answers besides the API: its content type, and its body when asked. */
export interface OpsPage {
  readonly contentType: string
  /** `no-store` for live data a proxy must not keep. */
  readonly noStore?: boolean
  body(): string | object
}

/** `/metrics`, `/dashboard`, `/dashboard/data` and `/health`, the same on both services. */
export function opsPages(context: ServiceContext, counters: ServiceCounters): Record<string, OpsPage> {
  return {
    '/metrics': { contentType: PROMETHEUS_CONTENT_TYPE, body: () => metricsText(context, counters) },
    '/dashboard': { contentType: 'text/html; charset=utf-8', body: () => DASHBOARD_HTML },
    '/dashboard/data': { contentType: 'application/json', noStore: true, body: () => context.dashboardData() as object },
    '/health': {
      contentType: 'application/json',
      body: () => ({ ok: true, instance: context.name, breaker: context.cache.breakerState() }),
    },
  }
}

/** One answer of the JSON API, framework-neutral: each service sends it as it is. */
export interface ApiReply {
  readonly status: number
  readonly body: unknown
}

const NO_SUCH_PRODUCT = { error: 'no such product' }

/** `value` with 200, or `error` with `status` when the catalogue found nothing. */
function found(value: unknown, status: number, error: object): ApiReply {
  return value === null ? { status, body: error } : { status: 200, body: value }
}

/**
 * The catalogue's JSON API, written once: the Express and the Fastify service route their
 * requests to it and send what it answers, so both behave alike by construction.
 */
export function catalogApi(catalog: Catalog) {
  return {
    async products(rawIds: unknown): Promise<ApiReply> {
      const ids = parseIds(rawIds)
      if (ids === undefined) return { status: 400, body: { error: 'give ?ids=1,2,3 (at most 100 product ids)' } }
      return { status: 200, body: await catalog.getProducts(ids) }
    },
    product: async (id: string): Promise<ApiReply> => found(await catalog.getProduct(id), 404, NO_SUCH_PRODUCT),
    stock: async (id: string): Promise<ApiReply> => found(await catalog.getStock(id), 404, NO_SUCH_PRODUCT),
    category: async (id: string): Promise<ApiReply> => ({ status: 200, body: await catalog.listByCategory(id) }),
    async updatePrice(id: string, body: unknown): Promise<ApiReply> {
      const cents = parseCents(body)
      if (cents === undefined) return { status: 400, body: { error: 'give { "cents": <positive integer> }' } }
      return found(await catalog.updatePrice(id, cents), 404, NO_SUCH_PRODUCT)
    },
    buy: async (id: string): Promise<ApiReply> => found(await catalog.buy(id), 409, { error: 'sold out or no such product' }),
  }
}

/** A price in cents from a request body: a positive integer, or `undefined`. */
function parseCents(body: unknown): number | undefined {
  const cents = (body as { cents?: unknown } | undefined)?.cents
  return typeof cents === 'number' && Number.isInteger(cents) && cents > 0 && cents < 2 ** 31 ? cents : undefined
}

/** Ids of `?ids=1,2,3`: at most 100, each a product id. */
function parseIds(raw: unknown): string[] | undefined {
  if (typeof raw !== 'string' || raw === '') return undefined
  const ids = raw.split(',')
  return ids.length <= 100 && ids.every((id) => /^[0-9]{1,9}$/.test(id)) ? ids : undefined
}

/** `/metrics`: the cache's Prometheus text plus the service's own request and database counters. */
function metricsText(context: ServiceContext, counters: ServiceCounters): string {
  const labels = { instance: context.name }
  return (
    context.cache.metrics({ labels }) +
    [
      '# HELP demo_http_requests_total HTTP requests this instance answered.',
      '# TYPE demo_http_requests_total counter',
      `demo_http_requests_total{instance="${context.name}"} ${counters.requests}`,
      '# HELP demo_http_errors_total HTTP requests this instance answered with a 5xx.',
      '# TYPE demo_http_errors_total counter',
      `demo_http_errors_total{instance="${context.name}"} ${counters.errors}`,
      '# HELP demo_db_queries_total Queries run by the database both instances share.',
      '# TYPE demo_db_queries_total counter',
      `demo_db_queries_total ${context.dbQueries()}`,
      '',
    ].join('\n')
  )
}

/** The product page of `/pages/products/:id` (cached whole by the HTTP layer). */
export function productPage(product: Product): string {
  const price = (product.priceCents / 100).toFixed(2)
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(product.name)}</title></head><body>
<h1>${escapeHtml(product.name)}</h1><p>${escapeHtml(product.description)}</p>
<p class="price" data-price="${product.priceCents}">${price} ${escapeHtml(product.currency)}</p></body></html>`
}

export function listeningUrl(server: Server): string {
  const address = server.address() as AddressInfo
  return `http://127.0.0.1:${address.port}`
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}
