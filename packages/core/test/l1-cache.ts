import { recordingLogger } from '@tiercache/testkit/helpers'
import { type CacheOptions, createCache, ManualClock } from '../src/index.js'

/** An L1-only cache on a clock the test moves, logging into a recorder the test reads. */
export function l1Cache(entities: CacheOptions['entities'], extra: Partial<CacheOptions> = {}) {
  const clock = new ManualClock()
  const logger = recordingLogger()
  const cache = createCache({ namespace: 'test', entities, clock, logger, ...extra })
  return { cache, clock, logger }
}

/**
 * An {@link l1Cache} with one `product` entity (timing `product`) that already holds `'v1'` under
 * id `'1'`, loaded `ageMs` milliseconds ago on the cache's clock: the start of every grace test.
 */
export async function agedProduct(product: NonNullable<CacheOptions['entities']>[string], ageMs: number) {
  const made = l1Cache({ product })
  const products = made.cache.entity<string>('product')
  await products.get('1', async () => 'v1')
  made.clock.advance(ageMs)
  return { ...made, products }
}
