import { type DynamicModule, Module, type Provider } from '@nestjs/common'
import { DiscoveryModule } from '@nestjs/core'
import type { TierCache } from '@tiercache/core'
import { TierCacheInterceptor } from './cache-interceptor.js'
import { CacheLifecycle } from './cache-lifecycle.js'
import {
  type ResolvedModuleOptions,
  resolveModuleOptions,
  type TierCacheModuleAsyncOptions,
  type TierCacheModuleOptions,
} from './module-options.js'
import { RouteRegistry } from './route-registry.js'
import { getEntityToken, TIERCACHE, TIERCACHE_MODULE_OPTIONS } from './tokens.js'

const cacheProvider: Provider = {
  provide: TIERCACHE,
  useFactory: (options: ResolvedModuleOptions) => options.cache,
  inject: [TIERCACHE_MODULE_OPTIONS],
}

const shared: Provider[] = [cacheProvider, CacheLifecycle, RouteRegistry, TierCacheInterceptor]

/**
 * tiercache as a Nest module. `forRoot` (or `forRootAsync`) once, in the root module: it is
 * global, so the cache (`@InjectCache()`), the interceptor of `@Cached()`/`@Invalidates()` routes
 * and `forFeature`'s entity handles resolve in every module.
 */
@Module({})
// biome-ignore lint/complexity/noStaticOnlyClass: a Nest dynamic module is a class with static forRoot/forFeature
export class TierCacheModule {
  /** Registers the cache from options known now. Throws `INVALID_CONFIG` for bad options. */
  static forRoot(options: TierCacheModuleOptions): DynamicModule {
    return TierCacheModule.root([{ provide: TIERCACHE_MODULE_OPTIONS, useValue: resolveModuleOptions(options) }], [])
  }

  /** Registers the cache from options a factory makes (e.g. from `ConfigService`), with its own `imports` and `inject`. */
  static forRootAsync(options: TierCacheModuleAsyncOptions): DynamicModule {
    const factory = options.useFactory as (...args: unknown[]) => TierCacheModuleOptions | Promise<TierCacheModuleOptions>
    return TierCacheModule.root(
      [
        {
          provide: TIERCACHE_MODULE_OPTIONS,
          useFactory: async (...args: unknown[]) => resolveModuleOptions(await factory(...args)),
          inject: options.inject ?? [],
        },
      ],
      options.imports ?? [],
    )
  }

  /**
   * Provides the handles of entities `names` (`cache.entity(name)`) to the importing module, for
   * `@InjectEntity(name)`. An entity the cache does not have fails the application's start with
   * `UNKNOWN_ENTITY`.
   */
  static forFeature(names: readonly string[]): DynamicModule {
    const providers: Provider[] = names.map((name) => ({
      provide: getEntityToken(name),
      useFactory: (cache: TierCache) => cache.entity(name),
      inject: [TIERCACHE],
    }))
    return { module: TierCacheModule, providers, exports: providers }
  }

  private static root(options: Provider[], imports: NonNullable<TierCacheModuleAsyncOptions['imports']>): DynamicModule {
    return {
      module: TierCacheModule,
      global: true,
      imports: [...imports, DiscoveryModule],
      providers: [...options, ...shared],
      exports: [TIERCACHE, TIERCACHE_MODULE_OPTIONS, RouteRegistry, TierCacheInterceptor],
    }
  }
}
