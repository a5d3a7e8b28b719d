import 'reflect-metadata'
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common'
import { RESPONSE_PASSTHROUGH_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js'
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js'
import { DiscoveryService, MetadataScanner } from '@nestjs/core'
import { type Logger, TierCacheError } from '@tiercache/core'
import { HttpCacheRoute, resolveInvalidateOnWriteOptions } from '@tiercache/core/http'
import type { ResolvedModuleOptions } from './module-options.js'
import type { NestRequest } from './nest-http.js'
import { CACHED_METADATA, type CachedOptions, INVALIDATES_METADATA, type NestInvalidates } from './route-metadata.js'
import { TIERCACHE_MODULE_OPTIONS } from './tokens.js'

/** What the interceptor does on one route, decided once per handler. */
export interface RouteEntry {
  /** The cached route, or `null` when the handler is not cached. */
  readonly cache: HttpCacheRoute<NestRequest> | null
  readonly invalidates: NestInvalidates | null
  /** The handler writes its own response (`@Res()` or `@Next()` without passthrough): Nest sends nothing after it. */
  readonly handlerWrites: boolean
}

const NOTHING: RouteEntry = { cache: null, invalidates: null, handlerWrites: false }

/**
 * The routes of `@Cached()` and `@Invalidates()`, each resolved once: options merged (module
 * `defaults`, then the controller's, then the method's), validated, and the entity checked. Every
 * controller is resolved when the module starts, so a misconfigured route fails `app.init()`
 * with `INVALID_CONFIG` or `UNKNOWN_ENTITY` rather than at its first request.
 */
@Injectable()
export class RouteRegistry implements OnModuleInit {
  private readonly entries = new WeakMap<object, RouteEntry>()

  constructor(
    @Inject(TIERCACHE_MODULE_OPTIONS) private readonly options: ResolvedModuleOptions,
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(MetadataScanner) private readonly scanner: MetadataScanner,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getControllers()) {
      const controller = wrapper.metatype as (new (...args: never[]) => unknown) | undefined
      if (typeof controller !== 'function') continue
      const prototype = controller.prototype as Record<string, unknown>
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const handler = prototype[name]
        if (typeof handler === 'function') this.entryOf(controller, handler as (...args: unknown[]) => unknown)
      }
    }
  }

  /** The entry of `handler` on `controller`, resolved on first use. */
  entryOf(controller: object, handler: (...args: unknown[]) => unknown): RouteEntry {
    let entry = this.entries.get(handler)
    if (entry === undefined) {
      entry = this.resolve(controller as { name?: string; prototype?: object }, handler)
      this.entries.set(handler, entry)
    }
    return entry
  }

  private resolve(controller: { name?: string; prototype?: object }, handler: (...args: unknown[]) => unknown): RouteEntry {
    const onMethod = Reflect.getMetadata(CACHED_METADATA, handler) as CachedOptions | false | undefined
    const onClass = Reflect.getMetadata(CACHED_METADATA, controller) as CachedOptions | false | undefined
    const invalidates = (Reflect.getMetadata(INVALIDATES_METADATA, handler) ?? null) as NestInvalidates | null
    const cached = onMethod !== false && (onMethod !== undefined || (onClass !== undefined && onClass !== false))
    if (!cached && invalidates === null) return NOTHING
    const method = methodName(controller, handler)
    const where = `@Cached() on ${controller.name ?? 'a controller'}.${method}`
    let cache: HttpCacheRoute<NestRequest> | null = null
    if (cached) {
      const logger: { logger?: Logger } = this.options.logger === undefined ? {} : { logger: this.options.logger }
      const merged = { ...logger, ...this.options.defaults, ...(onClass || {}), ...(onMethod || {}) }
      if (merged.entity === undefined) {
        throw new TierCacheError(
          'INVALID_CONFIG',
          `${where}.entity: expected the name of an entity of the cache (here or in the module's defaults)`,
        )
      }
      cache = new HttpCacheRoute<NestRequest>(this.options.cache, merged, where)
    }
    if (invalidates !== null) resolveInvalidateOnWriteOptions({ invalidates }, `@Invalidates() on ${controller.name}.${method}`)
    return { cache, invalidates, handlerWrites: writesOwnResponse(controller, method) }
  }
}

/** The property under which `handler` sits on the controller's prototype chain (its `name` need not be it). */
function methodName(controller: { prototype?: object }, handler: unknown): string {
  for (
    let proto = controller.prototype;
    proto !== undefined && proto !== null && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (Object.getOwnPropertyDescriptor(proto, key)?.value === handler) return key
    }
  }
  return (handler as { name?: string }).name ?? ''
}

function writesOwnResponse(controller: { prototype?: object }, method: string): boolean {
  const host = controller as object
  const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, host, method) ?? {}) as Record<string, unknown>
  const takesResponse = Object.keys(args).some((key) => {
    const type = Number(key.split(':')[0])
    return type === RouteParamtypes.RESPONSE || type === RouteParamtypes.NEXT
  })
  const passthrough = Reflect.getMetadata(RESPONSE_PASSTHROUGH_METADATA, host, method) === true
  return takesResponse && !passthrough
}
