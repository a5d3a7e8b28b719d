import type { Clock, RandomSource } from './clock.js'
import type { GuardedStore } from './guarded-store.js'
import type { InvalidationBus } from './invalidation-bus.js'
import type { Logger } from './logger.js'
import type { Serializer } from './serializer.js'
import type { TagStamps } from './tag-stamps.js'

/** What every entity of one cache shares: the remote tier, the bus, tag stamps, time, randomness, logging. */
export interface EngineContext {
  readonly namespace: string
  /** The L2 behind the breaker and timeouts, or `null` for an L1-only cache. */
  readonly l2: GuardedStore | null
  /** The invalidation bus, or `null` without L2 or with `bus: false`. */
  readonly bus: InvalidationBus | null
  readonly tagStamps: TagStamps
  readonly clock: Clock
  readonly random: RandomSource
  readonly serializer: Serializer
  readonly logger: Logger
  /** Whether tracing channel contexts carry ids (the `tracing.ids` option). */
  readonly traceIds: boolean
  /** Invalidates tags across the fleet (the cache's `invalidateTag`). */
  invalidateTags(tags: string | readonly string[]): Promise<void>
  /** Emits a cache event (`hot-key`, `cold-key`, ...) to the cache's listeners. */
  emit(event: string, payload: object): void
  /** Set by `cache.close()`. */
  closed: boolean
}
