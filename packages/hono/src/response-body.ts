import type { IncomingHttpHeaders } from 'node:http'
import { type CapturedResponse, type ResponsePlan, UncacheableResponse } from '@tiercache/core/http'

/** A `Headers` as Node's lower-case header object, as the HTTP rules read a request. */
export function headersObject(headers: Headers): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {}
  headers.forEach((value, name) => {
    out[name] = value
  })
  return out
}

/** The request target as received (path and query) of a request's absolute URL. */
export function targetOf(url: string): string {
  const scheme = url.indexOf('://')
  const slash = url.indexOf('/', scheme === -1 ? 0 : scheme + 3)
  return slash === -1 ? '/' : url.slice(slash)
}

const EMPTY = Buffer.alloc(0)

/**
 * Reads a handler's `Response` for the cache. A stream is left alone and reported as such (the
 * `UncacheableResponse` carries no captured response: the caller sends the original, which
 * still streams): a response with `Transfer-Encoding` (Hono's `streamText` and `streamSSE` set
 * it) or `Content-Type: text/event-stream`. Any other body is read whole, up to `maxBodyBytes`;
 * past that it is `too-large`, and `passThrough` holds a response that sends what was read and
 * then the rest. A HEAD response keeps no body, and says its length in `Content-Length`.
 */
export async function captureResponse(
  response: Response,
  method: string,
  maxBodyBytes: number,
): Promise<{ captured: CapturedResponse } | { passThrough: Response | undefined; error: UncacheableResponse }> {
  const headers: Record<string, string | string[]> = {}
  response.headers.forEach((value, name) => {
    headers[name] = value
  })
  const cookies = response.headers.getSetCookie()
  if (cookies.length > 0) headers['set-cookie'] = cookies
  if (headers['transfer-encoding'] !== undefined || /^\s*text\/event-stream/i.test(String(headers['content-type'] ?? ''))) {
    return { passThrough: undefined, error: new UncacheableResponse('stream') }
  }
  const chunks: Uint8Array[] = []
  let size = 0
  const reader = response.body?.getReader()
  if (reader !== undefined) {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      chunks.push(value)
      size += value.byteLength
      if (size > maxBodyBytes) {
        const rest = new ReadableStream<Uint8Array>({
          start(controller) {
            for (const chunk of chunks) controller.enqueue(chunk)
          },
          async pull(controller) {
            const next = await reader.read()
            if (next.done) controller.close()
            else controller.enqueue(next.value)
          },
          cancel(reason) {
            return reader.cancel(reason)
          },
        })
        const passThrough = new Response(rest, { status: response.status, statusText: response.statusText, headers: response.headers })
        return { passThrough, error: new UncacheableResponse('too-large') }
      }
    }
  }
  const body = Buffer.concat(chunks)
  if (method === 'HEAD') {
    headers['content-length'] ??= String(body.length)
    return { captured: { status: response.status, headers, body: EMPTY } }
  }
  return { captured: { status: response.status, headers, body } }
}

/** The `Response` of a captured one (its body was read, so it is made anew), with `X-Cache: MISS`. */
export function responseOfCaptured(captured: CapturedResponse, base: Headers): Response {
  const headers = new Headers(base)
  headers.set('x-cache', 'MISS')
  return new Response(captured.body.length === 0 ? null : captured.body, { status: captured.status, headers })
}

/** The `Response` of a planned one, over the headers already prepared for this request (`base`). */
export function responseOfPlan(plan: ResponsePlan, base: Headers): Response {
  const headers = new Headers(base)
  for (const name of plan.removeHeaders) headers.delete(name)
  for (const [name, value] of plan.headers) {
    if (typeof value === 'string') headers.set(name, value)
    else {
      headers.delete(name)
      for (const one of value) headers.append(name, one)
    }
  }
  return new Response(plan.body, { status: plan.status, headers })
}
