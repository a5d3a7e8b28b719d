import { createCache, KeyBuilder, type RemoteStore, tagStampKey } from '@tiercache/core'
import { testCluster } from '@tiercache/testkit'
import { describe, expect, it } from 'vitest'
import { redisClusterStore } from '../../src/index.js'
import { eventually, recordingLogger, uniqueNamespace } from './helpers.js'

/** A real cluster store whose `operation` fails its next `times` calls (an injected fault, not a stand-in for Redis). */
function failingNext(store: RemoteStore, operation: keyof RemoteStore, times: number): RemoteStore {
  let left = times
  return new Proxy(store, {
    get(target, property) {
      if (property === operation && left > 0) {
        return async () => {
          left--
          throw new Error(`injected failure of ${operation}`)
        }
      }
      const value = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

// docs/decisions/0006-one-outbox-for-ids-and-tags.md: tag invalidations are retried like ids.
describe('invalidations that fail once, without opening the breaker', () => {
  it('a tag stamp that could not be written is written later by the outbox', async () => {
    const namespace = uniqueNamespace()
    const seeds = testCluster().seeds()
    const logger = recordingLogger()
    const store = redisClusterStore({ nodes: seeds })
    const cache = createCache({ namespace, logger, l2: failingNext(store, 'stampTags', 1), entities: { list: { ttl: '1m' } } })
    const reader = redisClusterStore({ nodes: seeds })
    try {
      await cache.ready()
      await cache.invalidateTag('category:7')
      expect(cache.breakerState()).toBe('closed')
      expect(logger.records).toContainEqual(expect.objectContaining({ msg: 'tag invalidation could not reach L2; it will be retried' }))
      const key = tagStampKey(namespace, 'category:7')
      await eventually(async () => ((await reader.getTagStamps([key]))[0] ?? 0) > 0, 10_000)
    } finally {
      await cache.close()
      await reader.close()
    }
  })

  it('an id whose L2 delete failed is deleted later by the same outbox', async () => {
    const namespace = uniqueNamespace()
    const seeds = testCluster().seeds()
    const writer = createCache({ namespace, l2: redisClusterStore({ nodes: seeds }), entities: { product: { ttl: '1m' } } })
    const cache = createCache({
      namespace,
      l2: failingNext(redisClusterStore({ nodes: seeds }), 'delete', 1),
      entities: { product: { ttl: '1m' } },
    })
    const reader = redisClusterStore({ nodes: seeds })
    try {
      await Promise.all([writer.ready(), cache.ready()])
      await writer.entity<string>('product').get('1', async () => 'v1')
      await cache.entity<string>('product').invalidate('1')
      expect(cache.breakerState()).toBe('closed')
      const key = new KeyBuilder(namespace, 'product').valueKey('1')
      await eventually(async () => (await reader.get(key)) === null, 10_000)
    } finally {
      await Promise.all([writer.close(), cache.close(), reader.close()])
    }
  })
})
