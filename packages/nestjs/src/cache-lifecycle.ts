import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common'
import type { ResolvedModuleOptions } from './module-options.js'
import { TIERCACHE_MODULE_OPTIONS } from './tokens.js'

/**
 * Closes the cache on application shutdown when the module owns it (see
 * `TierCacheModuleOptions.closeOnShutdown`). `onApplicationShutdown` runs after Nest has closed
 * the HTTP server, so requests in flight finish on an open cache.
 */
@Injectable()
export class CacheLifecycle implements OnApplicationShutdown {
  constructor(@Inject(TIERCACHE_MODULE_OPTIONS) private readonly options: ResolvedModuleOptions) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.options.closeOnShutdown) await this.options.cache.close()
  }
}
