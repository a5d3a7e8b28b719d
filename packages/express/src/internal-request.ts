import type { IncomingHttpHeaders } from 'node:http'
import { IncomingMessage, ServerResponse } from 'node:http'
import { Socket } from 'node:net'
import { type CapturedResponse, HTTP_DEFAULTS, REFRESH_DROPPED_HEADERS } from '@tiercache/core/http'
import type { Application, Request } from 'express'
import { ResponseCapture } from './response-capture.js'

/** What an internal request carries for the cache middlewares it passes through. */
export interface InternalRequestState {
  /** The filtered query the handler sees, as on the request that triggered the refresh. */
  readonly query: Record<string, string>
}

/** Internal requests in flight, recognised by every `httpCache` middleware they pass through. */
export const internalRequests = new WeakMap<object, InternalRequestState>()

/**
 * Produces a route's response anew for a background refresh, after the client that triggered it
 * was answered: dispatches an internal request with the same method, URL and headers through the
 * Express application at the top of `req.app`'s mount chain, and captures what it answers. Every
 * middleware runs as for a client request (authentication included); nothing reaches a socket.
 * Sub-applications are followed up through `app.use` mounts (Express records their parent); an
 * application mounted on a `Router` cannot be told from the top one, and its refreshes fail (the
 * stale response stays until grace ends, then requests load as on a miss).
 */
export function dispatchInternal(req: Request, query: Record<string, string>): Promise<CapturedResponse> {
  const fake = new IncomingMessage(new Socket())
  fake.method = req.method
  fake.url = req.originalUrl
  fake.httpVersion = '1.1'
  fake.httpVersionMajor = 1
  fake.httpVersionMinor = 1
  const headers: IncomingHttpHeaders = {}
  const raw: string[] = []
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || REFRESH_DROPPED_HEADERS.has(name)) continue
    ;(headers as Record<string, string | string[]>)[name] = value
    for (const one of Array.isArray(value) ? value : [value]) raw.push(name, one)
  }
  fake.headers = headers
  fake.rawHeaders = raw
  fake.push(null)
  fake.complete = true
  const res = new ServerResponse(fake)
  const capture = new ResponseCapture(res, 'internal')
  internalRequests.set(fake, { query })
  const app = rootApplication(req.app) as unknown as { handle(req: unknown, res: unknown, done: (error?: unknown) => void): void }
  const timer = setTimeout(() => capture.fail('timeout'), HTTP_DEFAULTS.internalRequestTimeoutMs).unref()
  capture.result.then(
    () => clearTimeout(timer),
    () => clearTimeout(timer),
  )
  try {
    app.handle(fake, res, (error) => capture.fail(error === undefined || error === null ? 'not-handled' : 'handler-error'))
  } catch {
    capture.fail('handler-error')
  }
  return capture.result
}

function rootApplication(app: Application): Application {
  let current = app
  for (
    let parent = (current as { parent?: Application }).parent;
    parent !== undefined;
    parent = (current as { parent?: Application }).parent
  ) {
    current = parent
  }
  return current
}
