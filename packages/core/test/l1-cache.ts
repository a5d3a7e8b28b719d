import { recordingLogger } from '@tiercache/testkit/helpers'
import { type CacheOptions, createCache, ManualClock } from '../src/index.js'

/** An L1-only cache on a clock the test moves, logging into a recorder the test reads. */
export function l1Cache(entities: CacheOptions['entities'], extra: Partial<CacheOptions> = {}) {
  const clock = new ManualClock()
  const logger = recordingLogger()
  const cache = createCache({ namespace: 'test', entities, clock, logger, ...extra })
  return { cache, clock, logger }
}
