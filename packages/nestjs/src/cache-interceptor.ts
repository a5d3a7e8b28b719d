import type { Server } from 'node:http'
import { type CallHandler, type ExecutionContext, Inject, Injectable, type NestInterceptor } from '@nestjs/common'
import { HttpAdapterHost } from '@nestjs/core'
import { type Logger, type TierCache, TierCacheError } from '@tiercache/core'
import {
  answerOutcome,
  consoleLogger,
  type HttpCacheRoute,
  type HttpRequestInfo,
  hideConditionalHeaders,
  holdResponse,
  invalidateAfterWrite,
  type LookupOutcome,
  ResponseCapture,
  restoreHeaders,
} from '@tiercache/core/http'
import { Observable, type Subscriber } from 'rxjs'
import { dispatchInternal, internalRequests } from './internal-dispatch.js'
import type { ResolvedModuleOptions } from './module-options.js'
import { type NestRequest, type RawPair, rawPair, setQuery } from './nest-http.js'
import { type RouteEntry, RouteRegistry } from './route-registry.js'
import { TIERCACHE_MODULE_OPTIONS } from './tokens.js'

// Requests already taken by this interceptor: `@Cached()` on a controller and on a method both apply it.
const taken = new WeakSet<object>()

/**
 * The interceptor of `@Cached()` and `@Invalidates()` routes (the decorators apply it). On a
 * cached GET or HEAD route it answers hits without running the handler and, on a miss, runs the
 * handler once across the fleet and stores its response; on a write route it invalidates what
 * `@Invalidates()` names once the response is a 2xx, before it is sent. It works on the Node
 * response under Nest's Express or Fastify platform, with the rules of `@tiercache/core/http`
 * that `@tiercache/express` and `@tiercache/fastify` apply.
 */
@Injectable()
export class TierCacheInterceptor implements NestInterceptor {
  private readonly log: Logger

  constructor(
    @Inject(RouteRegistry) private readonly routes: RouteRegistry,
    @Inject(TIERCACHE_MODULE_OPTIONS) private readonly options: ResolvedModuleOptions,
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
  ) {
    this.log = (options.logger ?? consoleLogger).child({ component: 'tiercache-nestjs' })
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle()
    const entry = this.routes.entryOf(context.getClass(), context.getHandler() as (...args: unknown[]) => unknown)
    const http = context.switchToHttp()
    const request = http.getRequest<NestRequest & object>()
    const response = http.getResponse<object>()
    const pair = rawPair(request, response)
    const internal = internalRequests.get(pair.req)
    if (internal !== undefined) {
      setQuery(request, internal.query)
      return next.handle()
    }
    if (taken.has(pair.req)) return next.handle()
    taken.add(pair.req)
    if (entry.cache !== null) {
      const info: HttpRequestInfo = { method: pair.req.method ?? 'GET', url: pair.url, headers: pair.req.headers }
      const decision = entry.cache.decide(info, request)
      if (decision.kind === 'bypass') {
        pair.res.setHeader('x-cache', 'BYPASS')
        return next.handle()
      }
      if (decision.kind === 'lookup') {
        setQuery(request, decision.query)
        return new Observable((subscriber) => {
          this.serve(
            entry,
            entry.cache as HttpCacheRoute<NestRequest>,
            { key: decision.key, info, request, pair, query: decision.query },
            next,
            subscriber,
          )
        })
      }
    }
    if (entry.invalidates !== null) return this.invalidating(entry, request, response, pair, next)
    return next.handle()
  }

  private serve(
    entry: RouteEntry,
    route: HttpCacheRoute<NestRequest>,
    call: { key: string; info: HttpRequestInfo; request: NestRequest; pair: RawPair; query: Record<string, string> },
    next: CallHandler,
    subscriber: Subscriber<unknown>,
  ): void {
    const { req, res } = call.pair
    // Everything Nest (or the handler) writes is held until the cache has decided what to send.
    const capture = new ResponseCapture(res, 'own')
    const before = new Set(res.getHeaderNames())
    let hidden: ReturnType<typeof hideConditionalHeaders> | undefined
    let ownRun: (() => void) | undefined
    const ownStarted = new Promise<void>((resolve) => {
      ownRun = resolve
    })
    const lookup = route.lookup(call.key, call.info, call.request, {
      runOwn: () => {
        hidden = hideConditionalHeaders(req.headers)
        ownRun?.()
        return capture.result
      },
      runInternal: () => dispatchInternal(this.server(), call.pair, call.query),
    })
    const answer = (outcome: LookupOutcome): 'answered' | 'pass' => {
      if (hidden !== undefined) restoreHeaders(req.headers, hidden)
      try {
        return answerOutcome(route, outcome, call.info, res, capture)
      } catch (error) {
        res.destroy(error instanceof Error ? error : undefined)
        return 'answered'
      }
    }
    Promise.race([ownStarted.then(() => undefined), lookup]).then(
      (first) => {
        if (first === undefined) {
          // This request runs the handler: Nest sends what it returns (held by the capture), then the cache answers.
          next.handle().subscribe(subscriber)
          void lookup.then(answer)
          return
        }
        if (first.kind === 'pass') {
          answer(first)
          next.handle().subscribe(subscriber)
          return
        }
        if (entry.handlerWrites) {
          // Nest sends nothing after a handler that takes @Res(): the cache answers now.
          answer(first)
          subscriber.next(undefined)
          subscriber.complete()
          return
        }
        // Nest sends a response for the value the interceptor emits: it is held and dropped, and the
        // stored one is sent in its place, with the headers set before this route (CORS, ...) kept.
        void capture.result
          .then(
            () => {},
            () => {},
          )
          .then(() => {
            for (const name of res.getHeaderNames()) if (!before.has(name)) res.removeHeader(name)
            answer(first)
          })
        subscriber.next(undefined)
        subscriber.complete()
      },
      (error: unknown) => {
        // lookup never rejects; a bug here is surfaced rather than left hanging.
        capture.release()
        subscriber.error(error)
      },
    )
  }

  private invalidating(entry: RouteEntry, request: NestRequest, response: object, pair: RawPair, next: CallHandler): Observable<unknown> {
    const invalidates = entry.invalidates as NonNullable<RouteEntry['invalidates']>
    const cache: TierCache = this.options.cache
    let result: unknown
    holdResponse(pair.res, (status) =>
      invalidateAfterWrite(
        cache,
        status,
        () => invalidates(request, response, result),
        (error) => this.log.error({ err: error, method: pair.req.method, url: pair.url }, 'invalidation after a successful write failed'),
      ),
    )
    return new Observable((subscriber) =>
      next.handle().subscribe({
        next: (value) => {
          result = value
          subscriber.next(value)
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      }),
    )
  }

  private server(): Server {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined
    if (server === undefined)
      throw new TierCacheError('INVALID_CONFIG', 'TierCacheInterceptor: no HTTP server to refresh cached routes through')
    return server
  }
}
