import type { ServerResponse } from 'node:http'
import type { HttpRequestInfo } from './cache-key.js'
import type { HttpCacheRoute, LookupOutcome } from './http-cache-route.js'
import type { ResponseCapture } from './response-capture.js'
import type { ResponsePlan } from './serve-plan.js'

/** Writes a planned response on Node's `ServerResponse`, unless it is already over (ended or destroyed). */
export function writePlan(res: ServerResponse, plan: ResponsePlan): void {
  if (res.writableEnded || res.destroyed) return
  for (const name of plan.removeHeaders) res.removeHeader(name)
  res.statusCode = plan.status
  for (const [name, value] of plan.headers) res.setHeader(name, value)
  if (plan.body === null) res.end()
  else res.end(plan.body)
}

/**
 * Answers a lookup's outcome on Node's `ServerResponse`, after releasing `capture` (the hold on
 * this request's own response, when its handler ran): a stored response as planned (`HIT`,
 * `STALE`, or `MISS` when this request produced it), or the handler's own response as it made
 * it when it was not stored. Returns `'pass'` when no handler ran and none was stored: the
 * adapter then runs the handler uncached (`X-Cache: MISS` is already set).
 */
export function answerOutcome<Req>(
  route: HttpCacheRoute<Req>,
  outcome: LookupOutcome,
  info: HttpRequestInfo,
  res: ServerResponse,
  capture: ResponseCapture | undefined,
): 'answered' | 'pass' {
  capture?.release()
  switch (outcome.kind) {
    case 'cached':
      writePlan(res, route.plan(outcome.stored, info, outcome.cacheStatus))
      return 'answered'
    case 'produced':
      writePlan(res, route.plan(outcome.stored, info, 'MISS'))
      return 'answered'
    case 'unstored':
      // The handler's own response, as it made it. Without one, the client went away or the handler is streaming.
      if (outcome.captured !== undefined && !res.writableEnded) {
        res.setHeader('x-cache', 'MISS')
        res.end(outcome.captured.body)
      }
      return 'answered'
    case 'pass':
      res.setHeader('x-cache', 'MISS')
      return 'pass'
  }
}

type Held = readonly ['write' | 'end' | 'flushHeaders', unknown[]]

/**
 * Holds back what is written on `res` (`write`, `end`, `flushHeaders`) from the first write on,
 * runs `beforeSend(status)` with the status at that moment, then releases everything in order.
 * What invalidate-on-write stands on: the write route's response leaves only once what it
 * changed is invalidated. `beforeSend` must not reject (a rejection is swallowed and the
 * response released anyway).
 */
export function holdResponse(res: ServerResponse, beforeSend: (status: number) => Promise<void>): void {
  const original = { write: res.write, end: res.end, flushHeaders: res.flushHeaders }
  const held: Held[] = []
  let gate: Promise<void> | undefined
  const hold = (call: Held): void => {
    held.push(call)
    if (gate !== undefined) return
    gate = beforeSend(res.statusCode)
      .catch(() => {})
      .then(() => {
        res.write = original.write
        res.end = original.end
        res.flushHeaders = original.flushHeaders
        for (const [method, args] of held) (res[method] as (...a: unknown[]) => unknown)(...args)
      })
  }
  res.write = function write(...args: unknown[]) {
    hold(['write', args])
    return true
  } as ServerResponse['write']
  res.end = function end(this: ServerResponse, ...args: unknown[]) {
    hold(['end', args])
    return this
  } as ServerResponse['end']
  res.flushHeaders = function flushHeaders() {
    hold(['flushHeaders', []])
  }
}
