import type { Server } from 'node:http'
import { type CapturedResponse, nodeInternalRequest } from '@tiercache/core/http'
import type { RawPair } from './nest-http.js'

/** Internal refresh requests in flight, with the filtered query their handler sees. */
export const internalRequests = new WeakMap<object, { readonly query: Record<string, string> }>()

/**
 * Produces a route's response anew for a background refresh, after the client that triggered it
 * was answered: an internal request with the same method, target and headers goes to the Node
 * HTTP server's request listener (the Express application, or Fastify's handler), through every
 * middleware, guard and interceptor as a client request would, and its response is captured
 * without reaching a socket. Recognised by the interceptor through {@link internalRequests}, so
 * nothing a client sends can pass for it.
 */
export function dispatchInternal(server: Server, from: RawPair, query: Record<string, string>): Promise<CapturedResponse> {
  const internal = nodeInternalRequest({ method: from.req.method ?? 'GET', url: from.url, headers: from.req.headers })
  internalRequests.set(internal.req, { query })
  const [listener] = server.listeners('request')
  if (typeof listener !== 'function') {
    internal.capture.fail('not-handled')
    return internal.capture.result
  }
  try {
    ;(listener as (req: unknown, res: unknown) => void).call(server, internal.req, internal.res)
  } catch {
    internal.capture.fail('handler-error')
  }
  return internal.capture.result
}
