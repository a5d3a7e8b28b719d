import type { Clock, RandomSource } from './clock.js'
import type { Logger } from './logger.js'
import type { RemoteStore } from './remote-store.js'
import type { Serializer } from './serializer.js'

/** What every entity of one cache shares: the remote tier, time, randomness, logging. */
export interface EngineContext {
  readonly namespace: string
  readonly l2: RemoteStore | null
  readonly clock: Clock
  readonly random: RandomSource
  readonly serializer: Serializer
  readonly logger: Logger
  /** Set by `cache.close()`. */
  closed: boolean
}
