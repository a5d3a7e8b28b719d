import { type CapturedResponse, nodeInternalRequest } from '@tiercache/core/http'
import type { Application, Request } from 'express'

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
  const internal = nodeInternalRequest({ method: req.method, url: req.originalUrl, headers: req.headers })
  const { capture } = internal
  internalRequests.set(internal.req, { query })
  const app = rootApplication(req.app) as unknown as { handle(req: unknown, res: unknown, done: (error?: unknown) => void): void }
  try {
    app.handle(internal.req, internal.res, (error) => capture.fail(error === undefined || error === null ? 'not-handled' : 'handler-error'))
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
