import { type CapturedResponse, HTTP_DEFAULTS, internalRequestHeaders, UncacheableResponse } from '@tiercache/core/http'
import type { Context } from 'hono'
import { captureResponse, headersObject } from './response-body.js'

/** The Hono application that serves the routes: what an internal refresh request is sent through. */
export interface FetchingApp {
  fetch(request: Request, env?: unknown, executionCtx?: never): Response | Promise<Response>
}

/** A background refresh in flight: its query, and the response the cached route's middleware captured. */
export interface InternalJob {
  readonly query: Record<string, string>
  captured?: CapturedResponse
  failure?: UncacheableResponse
}

/** Internal refresh requests in flight, keyed by their `Request`, so nothing a client sends can pass for one. */
export const internalJobs = new WeakMap<Request, InternalJob>()

/**
 * Produces a route's response anew for a background refresh, after the client that triggered it
 * was answered: a request with the same method, URL and headers (but the client's conditional and
 * range headers) goes through `app.fetch` with this request's `env`, through every middleware as a
 * client request would. The cached route's middleware recognises it, lets the handler run, and
 * captures its response before Hono's HEAD handling; a request answered before it got there (an
 * authentication middleware's 401) is captured from what `fetch` returns.
 */
export async function dispatchInternal(
  app: FetchingApp,
  c: Context,
  query: Record<string, string>,
  maxBodyBytes: number,
): Promise<CapturedResponse> {
  const original = c.req.raw
  const request = new Request(original.url, { method: original.method, headers: internalRequestHeaders(headersObject(original.headers)) })
  const job: InternalJob = { query }
  internalJobs.set(request, job)
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UncacheableResponse('timeout')), HTTP_DEFAULTS.internalRequestTimeoutMs)
    ;(timer as { unref?: () => void }).unref?.()
  })
  try {
    const response = await Promise.race([app.fetch(request, c.env), timeout])
    if (job.failure !== undefined) throw job.failure
    if (job.captured !== undefined) return job.captured
    const read = await captureResponse(response, original.method, maxBodyBytes)
    if ('error' in read) {
      await read.passThrough?.body?.cancel()
      throw read.error
    }
    return read.captured
  } finally {
    clearTimeout(timer)
  }
}
