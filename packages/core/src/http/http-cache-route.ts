import type { TierCache } from '../cache.js'
import type { EntityHandle } from '../entity/entity-handle.js'
import type { LoadContext } from '../entity/loader-context.js'
import type { LoaderContext } from '../entity/loader-types.js'
import type { ValuePolicy } from '../entity/value-policy.js'
import { tryParseDuration } from '../util/duration.js'
import { TierCacheError } from '../util/errors.js'
import type { HttpRequestInfo } from './cache-key.js'
import type { CapturedResponse } from './captured-response.js'
import { type EntityTiming, entityTiming } from './entity-timing.js'
import { type ResolvedHttpCacheOptions, resolveHttpCacheOptions } from './http-options.js'
import { decideRequest, type RequestDecision } from './request-rules.js'
import { unstorableReason } from './response-rules.js'
import { type CacheStatus, planStoredResponse, type ResponsePlan } from './serve-plan.js'
import { isStoredResponse, type StoredResponse, toStoredResponse } from './stored-response.js'
import { type UncacheableReason, UncacheableResponse } from './uncacheable.js'

/** How the framework adapter produces a response when the cache needs one. */
export interface ResponseProducers {
  /**
   * Runs this request's own handler and resolves with the response it produced, captured before
   * it was sent. Called at most once, and only while this request has not been answered: the
   * adapter then holds the response until {@link HttpCacheRoute.lookup} resolves.
   */
  runOwn(): Promise<CapturedResponse>
  /**
   * Produces the response in a new internal request for the same target and headers: used for
   * background refreshes (stale-while-revalidate, early refresh) that start after this request
   * was answered, when its own response object is gone.
   */
  runInternal(): Promise<CapturedResponse>
}

/** The result of a lookup, and what the adapter writes. */
export type LookupOutcome =
  /** A stored response, produced by another request: write `plan`. */
  | { readonly kind: 'cached'; readonly stored: StoredResponse; readonly cacheStatus: 'HIT' | 'STALE' }
  /** This request's own handler ran and its response was stored: write `plan` (`MISS`). */
  | { readonly kind: 'produced'; readonly stored: StoredResponse }
  /**
   * This request's own handler ran, and its response was not stored: send `captured` as the
   * handler made it (`MISS`), or nothing when there is none (the client went away).
   */
  | { readonly kind: 'unstored'; readonly reason: UncacheableReason | 'error'; readonly captured: CapturedResponse | undefined }
  /** No stored response, and this request's handler did not run: run it now, uncached (`MISS`). */
  | { readonly kind: 'pass'; readonly reason: UncacheableReason | 'error' }

/**
 * One cached route, framework-neutral: its options parsed once, the request rules, the
 * fleet-wide single-flight lookup through the route's entity, the response rules and the
 * response plans. The Express middleware and the Fastify plugin are thin adapters around it.
 */
export class HttpCacheRoute<Req = unknown> {
  readonly options: ResolvedHttpCacheOptions<Req>
  private readonly entity: EntityHandle<StoredResponse>
  private readonly timing: EntityTiming
  /** Keys whose short per-status TTL ran out and are being dropped, so concurrent requests drop them once. */
  private readonly expiring = new Map<string, Promise<void>>()

  /**
   * Validates `options` (throwing `INVALID_CONFIG` under `root`) and checks the entity exists
   * (`UNKNOWN_ENTITY`), so a misconfigured route fails when it is registered.
   */
  constructor(cache: TierCache, options: unknown, root = 'options') {
    this.options = resolveHttpCacheOptions<Req>(options, root)
    this.entity = cache.entity<StoredResponse>(this.options.entity)
    this.timing = entityTiming(this.entity)
    if (this.options.tags !== null && this.timing.tagsEntries === false) {
      throw new TierCacheError(
        'INVALID_CONFIG',
        `${root}.tags: entity "${this.options.entity}" does not tag its entries, so these tags would never invalidate anything; give it tags: httpResponseTags`,
      )
    }
  }

  /** The cache's clock, in ms. */
  now(): number {
    return this.timing.clock.now()
  }

  /** Applies the request rules (see {@link decideRequest}). */
  decide(info: HttpRequestInfo, req: Req): RequestDecision {
    return decideRequest(this.options, info, req)
  }

  /**
   * Finds the response of `key`, or produces it once across the fleet: the entity's `get` runs
   * the loader in one request only, on one instance only; every other request for the key waits
   * for that response. The loader runs this request's own handler when the request is still
   * waiting, or an internal request when it is a background refresh. Never rejects.
   */
  async lookup(key: string, info: HttpRequestInfo, req: Req, producers: ResponseProducers): Promise<LookupOutcome> {
    // Read after awaits: the loader moves it on, so it is typed wide rather than narrowed from its first value.
    let phase = 'waiting' as 'waiting' | 'own' | 'answered'
    let own: Promise<StoredResponse> | undefined
    const tagsOf = this.options.tags
    const method = info.method.toUpperCase()
    const loader = async (_id: string, ctx: LoaderContext): Promise<StoredResponse> => {
      // A background refresh may call the loader before `get` has handed this request its stale
      // value (an L1-only cache loads synchronously): after one turn of the event loop, a request
      // still waiting is a miss whose response this load produces; otherwise it is a refresh.
      if (phase === 'waiting') await new Promise<void>((resolve) => setImmediate(resolve))
      if (phase === 'waiting') {
        phase = 'own'
        own = producers.runOwn().then(
          (captured) => this.store(key, method, captured, tagsOf?.(req) ?? [], ctx),
          (error: unknown) => this.uncached(key, error),
        )
        return own
      }
      const captured = await producers.runInternal().catch((error: unknown) => this.uncached(key, error))
      return this.store(key, method, captured, tagsOf?.(req) ?? [], ctx)
    }

    for (let attempt = 0; ; attempt++) {
      let value: StoredResponse | undefined
      let failure: unknown
      try {
        value = await this.entity.get(key, loader)
      } catch (error) {
        failure = error
      }
      if (phase === 'own') return this.ownOutcome(own as Promise<StoredResponse>, value)
      if (failure !== undefined || !isStoredResponse(value)) {
        phase = 'answered'
        return { kind: 'pass', reason: failure instanceof UncacheableResponse ? failure.reason : 'error' }
      }
      const now = this.now()
      if (value.expiresAt !== null && now >= value.expiresAt && attempt === 0) {
        // A status with a TTL shorter than the entity's (a 404 for 30 s): drop the entry and look again.
        await this.expire(key)
        continue
      }
      phase = 'answered'
      return { kind: 'cached', stored: value, cacheStatus: now >= value.storedAt + (value.ttlMs ?? this.timing.ttlMs) ? 'STALE' : 'HIT' }
    }
  }

  /** The response to write for a stored entry. */
  plan(stored: StoredResponse, info: HttpRequestInfo, cacheStatus: CacheStatus): ResponsePlan {
    return planStoredResponse(stored, info, cacheStatus, this.now())
  }

  /**
   * Decides whether a captured response is stored; throws {@link UncacheableResponse} when it is
   * not (the handler's `setCachePolicy(res, false)` included). A policy the handler set goes to
   * the entity through the loader's context, which validates it: a bad one is logged as
   * `INVALID_CONFIG`, and the response is sent but not cached.
   */
  private store(key: string, method: string, captured: CapturedResponse, tags: readonly string[], ctx: LoaderContext): StoredResponse {
    const policy = captured.policy
    const reason = policy === false ? 'declined' : unstorableReason(this.options, captured)
    if (reason !== null) {
      this.options.logger.debug({ key, reason, status: captured.status }, 'response passed through uncached')
      throw new UncacheableResponse(reason, captured)
    }
    if (policy === undefined) return toStoredResponse(this.options, captured, { method, now: this.now(), tags })
    if (typeof policy === 'object' && policy !== null && 'tags' in policy) {
      ;(ctx as LoadContext).fail(
        new TierCacheError(
          'INVALID_CONFIG',
          `entity "${this.options.entity}" id "${key}": setCachePolicy().tags: tags come from the route's tags option; the response was sent but not cached`,
          { entity: this.options.entity, id: key },
        ),
      )
    } else {
      ctx.set(policy as ValuePolicy)
    }
    const ttlMs = typeof policy === 'object' && policy !== null ? tryParseDuration(policy.ttl) : undefined
    return toStoredResponse(this.options, captured, { method, now: this.now(), tags, ...(ttlMs === undefined ? {} : { ttlMs }) })
  }

  /**
   * This request's handler ran. Its response is what this request gets, whatever `get` returned
   * (a background refresh that ran synchronously returns the stale value first), except that a
   * handler failure (a 5xx) with a stored value at hand serves that value (fail-safe).
   */
  private async ownOutcome(own: Promise<StoredResponse>, fromGet: StoredResponse | undefined): Promise<LookupOutcome> {
    try {
      return { kind: 'produced', stored: await own }
    } catch (error) {
      if (!(error instanceof UncacheableResponse)) return { kind: 'unstored', reason: 'error', captured: undefined }
      const failed = error.reason === 'handler-error' || (error.captured !== undefined && error.captured.status >= 500)
      if (failed && isStoredResponse(fromGet)) return { kind: 'cached', stored: fromGet, cacheStatus: 'STALE' }
      return { kind: 'unstored', reason: error.reason, captured: error.captured }
    }
  }

  /** Logs a response the adapter could not capture (a stream, an abort, a timeout) and rethrows. */
  private uncached(key: string, error: unknown): never {
    if (error instanceof UncacheableResponse) this.options.logger.debug({ key, reason: error.reason }, 'response passed through uncached')
    throw error
  }

  private expire(key: string): Promise<void> {
    let running = this.expiring.get(key)
    if (running === undefined) {
      running = this.entity.invalidate(key).finally(() => this.expiring.delete(key))
      this.expiring.set(key, running)
    }
    return running
  }
}
