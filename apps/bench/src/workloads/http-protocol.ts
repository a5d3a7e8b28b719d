import type { NodeAddress } from '@tiercache/testkit'

/** The two frameworks the HTTP workload serves with. */
export type Framework = 'express' | 'fastify'

/** What the parent passes to the HTTP server process (its one argument, JSON). */
export interface HttpServerConfig {
  framework: Framework
  seeds: NodeAddress[]
  namespace: string
  /** Products in the catalogue (ids p0 .. p<n-1>). */
  products: number
}

/** Counters the server reports when asked. */
export interface HttpServerStats {
  /** Calls of the product handler on the cached route (each one a miss of the HTTP cache). */
  cachedHandlerCalls: number
  /** Calls of the product handler on the uncached route. */
  uncachedHandlerCalls: number
  l1Hits: number
  l2Hits: number
  misses: number
}

/** Server to parent. */
export type HttpServerMessage =
  | { type: 'ready'; port: number }
  | { type: 'stats'; stats: HttpServerStats }
  | { type: 'failed'; message: string }
