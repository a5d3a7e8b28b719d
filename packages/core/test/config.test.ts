import { describe, expect, it } from 'vitest'
import { createCache, type TierCacheError } from '../src/index.js'

function configErrorOf(options: unknown): TierCacheError {
  try {
    createCache(options as never)
  } catch (error) {
    return error as TierCacheError
  }
  throw new Error('expected createCache to throw')
}

const valid = { namespace: 'shop', entities: { product: { ttl: '10m' } } }

describe('createCache options', () => {
  it('accepts a minimal config and durations as numbers or strings', () => {
    expect(() => createCache(valid)).not.toThrow()
    expect(() =>
      createCache({ namespace: 'a', entities: { e: { ttl: 500, grace: '1.5h', negativeTtl: '250ms', l1: { ttl: '2d' } } } }),
    ).not.toThrow()
  })

  it.each([
    [{ ...valid, namespace: '' }, 'INVALID_CONFIG: options.namespace: expected 1 to 64 letters, digits, "_", "-" or "."'],
    [{ ...valid, namespace: 'a:b' }, 'INVALID_CONFIG: options.namespace: expected 1 to 64 letters, digits, "_", "-" or "."'],
    [{ ...valid, namespace: 7 }, 'INVALID_CONFIG: options.namespace: Invalid input: expected string, received number'],
    [{ namespace: 'shop' }, 'INVALID_CONFIG: options.entities: Invalid input: expected record, received undefined'],
    [
      { ...valid, entities: { product: {} } },
      "INVALID_CONFIG: options.entities.product.ttl: expected a duration (milliseconds as a number >= 0, or a string like '500ms', '30s', '10m', '1h'), got nothing",
    ],
    [
      { ...valid, entities: { product: { ttl: '10 minutes' } } },
      `INVALID_CONFIG: options.entities.product.ttl: expected a duration (milliseconds as a number >= 0, or a string like '500ms', '30s', '10m', '1h'), got "10 minutes"`,
    ],
    [
      { ...valid, entities: { product: { ttl: -5 } } },
      "INVALID_CONFIG: options.entities.product.ttl: expected a duration (milliseconds as a number >= 0, or a string like '500ms', '30s', '10m', '1h'), got -5",
    ],
    [{ ...valid, entities: { product: { ttl: 0 } } }, 'INVALID_CONFIG: options.entities.product.ttl: expected a duration greater than 0'],
    [
      { ...valid, entities: { product: { ttl: '1m', jitter: 1.5 } } },
      'INVALID_CONFIG: options.entities.product.jitter: Too big: expected number to be <=1',
    ],
    [
      { ...valid, entities: { product: { ttl: '1m', jitter: '0.1' } } },
      'INVALID_CONFIG: options.entities.product.jitter: Invalid input: expected number, received string',
    ],
    [{ ...valid, entities: { product: { ttl: '1m', l1: true } } }, 'INVALID_CONFIG: options.entities.product.l1: Invalid input'],
    [
      { ...valid, entities: { product: { ttl: '1m', l1: { maxEntries: 0 } } } },
      'INVALID_CONFIG: options.entities.product.l1.maxEntries: Too small: expected number to be >0',
    ],
    [{ ...valid, entities: { product: { ttl: '1m', tll: '1m' } } }, 'INVALID_CONFIG: options.entities.product: unknown option "tll"'],
    [
      { ...valid, entities: { 'bad name': { ttl: '1m' } } },
      'INVALID_CONFIG: options.entities.bad name: expected 1 to 64 letters, digits, "_", "-" or "."',
    ],
    [{ ...valid, l2: {} }, 'INVALID_CONFIG: options.l2: expected a RemoteStore (e.g. redisClusterStore(...) from @tiercache/redis)'],
    [{ ...valid, logger: console }, 'INVALID_CONFIG: options.logger: expected a pino-compatible logger (debug, info, warn, error, child)'],
    [{ ...valid, l1: { maxEntries: 2.5 } }, 'INVALID_CONFIG: options.l1.maxEntries: Invalid input: expected int, received number'],
    [{ ...valid, maxValueBytes: -1 }, 'INVALID_CONFIG: options.maxValueBytes: Too small: expected number to be >0'],
    [
      { ...valid, serializer: JSON },
      'INVALID_CONFIG: options.serializer: expected a serializer { serialize(value): string, deserialize(text): unknown }',
    ],
    [{ ...valid, extra: 1 }, 'INVALID_CONFIG: options: unknown option "extra"'],
  ])('rejects %j with a message naming the field', (options, message) => {
    const error = configErrorOf(options)
    expect(error.name).toBe('TierCacheError')
    expect(error.code).toBe('INVALID_CONFIG')
    expect(error.message).toBe(message)
  })

  it('throws UNKNOWN_ENTITY for a name not configured', () => {
    const cache = createCache(valid)
    expect(() => cache.entity('user')).toThrowError('UNKNOWN_ENTITY: no entity named "user" in namespace "shop"; configured: "product"')
  })
})
