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
export const DASHBOARD_HTML = readFileSync(new URL('../public/dashboard.html', import.meta.url), 'utf8')

/** `/metrics`: the cache's Prometheus text plus the service's own request and database counters. */
export function metricsText(context: ServiceContext, counters: ServiceCounters): string {
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

export { PROMETHEUS_CONTENT_TYPE }

/** The product page of `/pages/products/:id` (cached whole by the HTTP layer). */
export function productPage(product: Product): string {
  const price = (product.priceCents / 100).toFixed(2)
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(product.name)}</title></head><body>
<h1>${escapeHtml(product.name)}</h1><p>${escapeHtml(product.description)}</p>
<p class="price" data-price="${product.priceCents}">${price} ${escapeHtml(product.currency)}</p></body></html>`
}

/** A price in cents from a request body: a positive integer, or `undefined`. */
export function parseCents(body: unknown): number | undefined {
  const cents = (body as { cents?: unknown } | undefined)?.cents
  return typeof cents === 'number' && Number.isInteger(cents) && cents > 0 && cents < 2 ** 31 ? cents : undefined
}

/** Ids of `?ids=1,2,3`: at most 100, each a product id. */
export function parseIds(raw: unknown): string[] | undefined {
  if (typeof raw !== 'string' || raw === '') return undefined
  const ids = raw.split(',')
  return ids.length <= 100 && ids.every((id) => /^[0-9]{1,9}$/.test(id)) ? ids : undefined
}

export function listeningUrl(server: Server): string {
  const address = server.address() as AddressInfo
  return `http://127.0.0.1:${address.port}`
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}
