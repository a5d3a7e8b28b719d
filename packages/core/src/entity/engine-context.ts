import type { InvalidationBus } from '../invalidation/invalidation-bus.js'
import type { InvalidationOutbox } from '../invalidation/invalidation-outbox.js'
import type { TagStamps } from '../invalidation/tag-stamps.js'
import type { GuardedStore } from '../l2/guarded-store.js'
import type { Clock, RandomSource } from '../util/clock.js'
import type { Logger } from '../util/logger.js'
import type { Serializer } from '../util/serializer.js'

/** What every entity of one cache shares: the remote tier, the bus, tag stamps, time, randomness, logging. */
export interface EngineContext {
  readonly namespace: string
  /** The L2 behind the breaker and timeouts, or `null` for an L1-only cache. */
  readonly l2: GuardedStore | null
  /** The invalidation bus, or `null` without L2 or with `bus: false`. */
  readonly bus: InvalidationBus | null
  readonly tagStamps: TagStamps
  /** Invalidations (ids and tags) that could not reach L2 or the bus, retried until they do. */
  readonly outbox: InvalidationOutbox
  /** Whether invalidations wait for a replica to confirm their deletion, when the store can (`durableInvalidation`). */
  readonly durableInvalidation: boolean
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
