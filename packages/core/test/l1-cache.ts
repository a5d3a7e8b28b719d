import { type CacheOptions, createCache, ManualClock } from '../src/index.js'
import { recordingLogger } from './recording-logger.js'

/** An L1-only cache on a clock the test moves, logging into a recorder the test reads. */
export function l1Cache(entities: CacheOptions['entities'], extra: Partial<CacheOptions> = {}) {
  const clock = new ManualClock()
  const logger = recordingLogger()
  const cache = createCache({ namespace: 'test', entities, clock, logger, ...extra })
  return { cache, clock, logger }
}

/** A promise the test settles by hand (a loader held until the test lets it finish). */
export function deferred<T>() {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}
