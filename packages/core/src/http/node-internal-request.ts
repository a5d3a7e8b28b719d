import { IncomingMessage, ServerResponse } from 'node:http'
import { Socket } from 'node:net'
import { HTTP_DEFAULTS } from './http-options.js'
import { internalRequestHeaders } from './request-headers.js'
import { ResponseCapture } from './response-capture.js'

/** A request of Node's `http` module made in process, and the capture of the response a handler gives it. */
export interface NodeInternalRequest {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  /** Resolves with what the handler answered; fails with `timeout` past {@link HTTP_DEFAULTS.internalRequestTimeoutMs}. */
  readonly capture: ResponseCapture
}

/**
 * Makes the request of a background refresh for a framework that serves Node's `(req, res)`
 * pair (Express, Nest on Express or Fastify): the same method, target and headers as `from`
 * (but the {@link DROPPED_INTERNAL_HEADERS}), no body, on a socket that is never connected, and
 * a response whose every write is captured and never reaches a socket. The caller hands the pair
 * to its framework's request handler and awaits `capture.result`.
 */
export function nodeInternalRequest(from: { method: string; url: string; headers: IncomingMessage['headers'] }): NodeInternalRequest {
  const req = new IncomingMessage(new Socket())
  req.method = from.method
  req.url = from.url
  req.httpVersion = '1.1'
  req.httpVersionMajor = 1
  req.httpVersionMinor = 1
  const headers = internalRequestHeaders(from.headers)
  const raw: string[] = []
  for (const [name, value] of Object.entries(headers)) for (const one of Array.isArray(value) ? value : [value]) raw.push(name, one)
  req.headers = headers
  req.rawHeaders = raw
  req.push(null)
  req.complete = true
  const res = new ServerResponse(req)
  const capture = new ResponseCapture(res, 'internal')
  const timer = setTimeout(() => capture.fail('timeout'), HTTP_DEFAULTS.internalRequestTimeoutMs).unref()
  const stop = (): void => clearTimeout(timer)
  capture.result.then(stop, stop)
  return { req, res, capture }
}
