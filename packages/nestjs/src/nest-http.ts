import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'

/**
 * What the cache reads of the request a Nest route gets, on either of Nest's HTTP platforms:
 * Express's `Request` or Fastify's `FastifyRequest` (both have these). The `key`, `tags` and
 * `skip` options of `@Cached()` and the `invalidates` of `@Invalidates()` receive the platform's
 * own request object; cast it when you need more of it.
 */
export interface NestRequest {
  readonly params: Record<string, string>
  readonly query: Record<string, unknown>
  readonly headers: IncomingHttpHeaders
  readonly method: string
  readonly url: string
}

/** The Node request and response under a Nest platform's objects (Fastify wraps them; Express extends them). */
export interface RawPair {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  /** The request target as received (Express: `originalUrl`, so a mount or a global prefix does not hide part of it). */
  readonly url: string
}

/** The Node request and response of a Nest HTTP context, on Express or Fastify. */
export function rawPair(request: object, response: object): RawPair {
  const req = ((request as { raw?: IncomingMessage }).raw ?? request) as IncomingMessage
  const res = ((response as { raw?: ServerResponse }).raw ?? response) as ServerResponse
  const url = (request as { originalUrl?: string }).originalUrl ?? req.url ?? '/'
  return { req, res, url }
}

/** The handler of a cached route sees only the query parameters that are part of the key. */
export function setQuery(request: object, query: Record<string, string>): void {
  // Express 5 computes req.query with a getter on its prototype; an own property shadows it (and Fastify's is a plain property).
  Object.defineProperty(request, 'query', { value: query, configurable: true, enumerable: true, writable: true })
}
