import { randomUUID } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import {
  type CapturedResponse,
  HTTP_DEFAULTS,
  type HttpCacheRoute,
  type HttpRequestInfo,
  hideConditionalHeaders,
  internalRequestHeaders,
  type LookupOutcome,
  type ResponsePlan,
  responsePolicyOf,
  restoreHeaders,
  UncacheableResponse,
} from '@tiercache/core/http'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

/** The header that marks an internal refresh request; its value is the id of a job in flight, unguessable from outside. */
export const INTERNAL_HEADER = 'x-tiercache-internal'

interface Deferred<T> {
  promise: Promise<T>
  resolve(value: T): void
  reject(error: unknown): void
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  promise.catch(() => {})
  return { promise, resolve, reject }
}

/** A background refresh in flight: the internal request's captured response, and the query its handler sees. */
export interface InternalJob {
  readonly capture: Deferred<CapturedResponse>
  readonly query: Record<string, string>
}

/** Per-request state of a cached route, between the serving hook and `onSend`. */
type RequestState =
  /** The handler runs for the cache: `onSend` captures its response and answers with the lookup's outcome. */
  | {
      mode: 'own'
      capture: Deferred<CapturedResponse>
      outcome: Promise<LookupOutcome>
      info: HttpRequestInfo
      hidden: IncomingHttpHeaders
    }
  /** Answered from the serving hook; a HEAD answer needs its Content-Length put back after Fastify's HEAD handling. */
  | { mode: 'answered'; headLength: string | undefined }
  /** An internal refresh request: `onSend` hands its response to the job. */
  | { mode: 'internal'; job: InternalJob }
  | { mode: 'done' }

/**
 * The hooks of one cached route: the serving hook (`onRequest` or `preHandler`) answers hits and
 * lets the handler run when the cache needs its response; `onSend` captures that response and
 * answers with what the cache decided. Internal refresh requests (made with `fastify.inject`)
 * carry {@link INTERNAL_HEADER} and skip the lookup.
 */
export function routeCachingHooks(fastify: FastifyInstance, route: HttpCacheRoute<FastifyRequest>, jobs: Map<string, InternalJob>) {
  const states = new WeakMap<FastifyRequest, RequestState>()

  async function serve(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const headers = request.raw.headers
    const marker = headers[INTERNAL_HEADER]
    if (marker !== undefined) {
      delete headers[INTERNAL_HEADER]
      const job = typeof marker === 'string' ? jobs.get(marker) : undefined
      if (job !== undefined) {
        request.query = job.query
        states.set(request, { mode: 'internal', job })
        return undefined
      }
    }
    const info: HttpRequestInfo = { method: request.raw.method ?? request.method, url: request.raw.url ?? request.url, headers }
    const decision = route.decide(info, request)
    if (decision.kind === 'skip') return undefined
    if (decision.kind === 'bypass') {
      reply.header('x-cache', 'BYPASS')
      return undefined
    }
    request.query = decision.query
    const capture = deferred<CapturedResponse>()
    const proceed = deferred<undefined>()
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) capture.reject(new UncacheableResponse('aborted'))
    })
    // The loader may run this request's handler before lookup() even returns (an L1-only cache loads synchronously).
    const own: Extract<RequestState, { mode: 'own' }> = { mode: 'own', capture, outcome: proceed.promise as never, info, hidden: {} }
    const outcome = route.lookup(decision.key, info, request, {
      runOwn: () => {
        own.hidden = hideConditionalHeaders(headers)
        states.set(request, own)
        proceed.resolve(undefined)
        return capture.promise
      },
      runInternal: () => dispatchInternal(fastify, request, decision.query, jobs),
    })
    own.outcome = outcome
    const first = await Promise.race([outcome, proceed.promise])
    if (first === undefined) return undefined
    switch (first.kind) {
      case 'cached': {
        const plan = route.plan(first.stored, info, first.cacheStatus)
        states.set(request, { mode: 'answered', headLength: info.method === 'HEAD' ? contentLengthOf(plan) : undefined })
        applyPlan(reply, plan)
        return plan.body === null ? reply.send() : reply.send(plan.body)
      }
      case 'pass':
        reply.header('x-cache', 'MISS')
        return undefined
      default:
        // 'produced' and 'unstored' come only after this request's own handler ran, which it has not.
        throw new Error(`tiercache: unexpected lookup outcome ${first.kind} before the handler ran`)
    }
  }

  async function onSend(request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
    const state = states.get(request)
    if (state === undefined) return payload
    switch (state.mode) {
      case 'answered':
        if (state.headLength !== undefined) reply.header('content-length', state.headLength)
        return payload
      case 'internal':
        states.set(request, { mode: 'done' })
        return settleInternal(state.job, reply, payload)
      case 'own': {
        states.set(request, { mode: 'done' })
        restoreHeaders(request.raw.headers, state.hidden)
        if (isStream(payload)) state.capture.reject(new UncacheableResponse('stream'))
        else state.capture.resolve(capturedOf(reply, payload))
        const outcome = await state.outcome
        if (outcome.kind === 'produced' || outcome.kind === 'cached') {
          const plan = route.plan(outcome.stored, state.info, outcome.kind === 'produced' ? 'MISS' : outcome.cacheStatus)
          applyPlan(reply, plan)
          return plan.body
        }
        reply.header('x-cache', 'MISS')
        return payload
      }
      default:
        return payload
    }
  }

  return { serve, onSend }
}

/**
 * Produces a route's response anew for a background refresh, after the client that triggered it
 * was answered: `fastify.inject` with the same method, URL and headers, marked as internal so the
 * cached route runs its handler without a lookup. Its `onSend` hands over the response before any
 * HEAD handling; when the request never gets there (a hook answered it), the injected response is used.
 */
function dispatchInternal(
  fastify: FastifyInstance,
  request: FastifyRequest,
  query: Record<string, string>,
  jobs: Map<string, InternalJob>,
): Promise<CapturedResponse> {
  const id = randomUUID()
  const job: InternalJob = { capture: deferred<CapturedResponse>(), query }
  jobs.set(id, job)
  const headers = internalRequestHeaders(request.raw.headers)
  headers[INTERNAL_HEADER] = id
  const method = (request.raw.method ?? 'GET') as 'GET' | 'HEAD'
  const timer = setTimeout(() => job.capture.reject(new UncacheableResponse('timeout')), HTTP_DEFAULTS.internalRequestTimeoutMs).unref()
  fastify
    .inject({ method, url: request.raw.url ?? request.url, headers })
    .then(
      (response) => job.capture.resolve({ status: response.statusCode, headers: response.headers, body: response.rawPayload }),
      (error: unknown) => job.capture.reject(error),
    )
    .finally(() => {
      clearTimeout(timer)
      jobs.delete(id)
    })
  return job.capture.promise
}

function settleInternal(job: InternalJob, reply: FastifyReply, payload: unknown): unknown {
  if (isStream(payload)) {
    job.capture.reject(new UncacheableResponse('stream'))
    ;(payload as { destroy?: () => void }).destroy?.()
    return ''
  }
  job.capture.resolve(capturedOf(reply, payload))
  return payload
}

/** The response a handler produced on `reply`, with the policy it set (`setCachePolicy`). */
function capturedOf(reply: FastifyReply, payload: unknown): CapturedResponse {
  return { status: reply.statusCode, headers: reply.getHeaders(), body: bodyOf(payload), policy: responsePolicyOf(reply.raw) }
}

function applyPlan(reply: FastifyReply, plan: ResponsePlan): void {
  for (const name of plan.removeHeaders) reply.removeHeader(name)
  reply.code(plan.status)
  for (const [name, value] of plan.headers) reply.header(name, value)
}

function contentLengthOf(plan: ResponsePlan): string | undefined {
  const found = plan.headers.find(([name]) => name === 'content-length')
  return found === undefined ? undefined : String(found[1])
}

function isStream(payload: unknown): boolean {
  if (typeof payload !== 'object' || payload === null || Buffer.isBuffer(payload)) return false
  const p = payload as { pipe?: unknown; getReader?: unknown }
  return (
    typeof p.pipe === 'function' || typeof p.getReader === 'function' || Object.prototype.toString.call(payload) === '[object Response]'
  )
}

function bodyOf(payload: unknown): Buffer {
  if (payload === undefined || payload === null) return Buffer.alloc(0)
  if (Buffer.isBuffer(payload)) return payload
  if (typeof payload === 'string') return Buffer.from(payload)
  if (payload instanceof Uint8Array) return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
  return Buffer.from(String(payload))
}
