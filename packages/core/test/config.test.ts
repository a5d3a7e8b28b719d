import { describe, expect, it } from 'vitest'
import { z } from 'zod'
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
      { ...valid, durableInvalidation: 'yes' },
      'INVALID_CONFIG: options.durableInvalidation: Invalid input: expected boolean, received string',
    ],
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
      { ...valid, entities: { product: { ttl: '1m', lockPoll: 0 } } },
      'INVALID_CONFIG: options.entities.product.lockPoll: expected a duration greater than 0',
    ],
    [
      { ...valid, entities: { product: { ttl: '1m', lockPoll: 'often' } } },
      `INVALID_CONFIG: options.entities.product.lockPoll: expected a duration (milliseconds as a number >= 0, or a string like '500ms', '30s', '10m', '1h'), got "often"`,
    ],
    [
      { ...valid, entities: { product: { ttl: '1m', jitter: 1.5 } } },
      'INVALID_CONFIG: options.entities.product.jitter: Too big: expected number to be <=1',
    ],
    [
      { ...valid, entities: { product: { ttl: '1m', jitter: '0.1' } } },
      'INVALID_CONFIG: options.entities.product.jitter: Invalid input: expected number, received string',
    ],
    [
      { ...valid, entities: { product: { ttl: '1m', l1: true } } },
      'INVALID_CONFIG: options.entities.product.l1: expected false or object, received boolean',
    ],
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
    [
      { ...valid, entities: { product: { ttl: '1m', ...{ hot: true } } } },
      'INVALID_CONFIG: options.entities.product.hot: expected false or object, received boolean',
    ],
    [
      { ...valid, entities: { product: { ttl: '1m', ...{ hot: { keys: 'viral' } } } } },
      'INVALID_CONFIG: options.entities.product.hot.keys: expected array or a function (id) => boolean, received string',
    ],
    [
      { ...valid, entities: { product: { ttl: '1m', ...{ hot: { replicas: 65 } } } } },
      'INVALID_CONFIG: options.entities.product.hot.replicas: Too big: expected number to be <=64',
    ],
    [
      { ...valid, entities: { product: { ttl: '1m', ...{ hot: { replicas: 1.5 } } } } },
      'INVALID_CONFIG: options.entities.product.hot.replicas: Invalid input: expected int, received number',
    ],
    [
      { ...valid, entities: { product: { ttl: '1m', ...{ hot: { capacity: 4 } } } } },
      'INVALID_CONFIG: options.entities.product.hot.capacity: Too small: expected number to be >=8',
    ],
    [
      { ...valid, entities: { product: { ttl: '1m', ...{ hot: { threshold: { share: 1.5 } } } } } },
      'INVALID_CONFIG: options.entities.product.hot.threshold.share: Too big: expected number to be <=1',
    ],
    [
      { ...valid, entities: { product: { ttl: '1m', ...{ hot: { threshold: { rate: 0 } } } } } },
      'INVALID_CONFIG: options.entities.product.hot.threshold.rate: Too small: expected number to be >0',
    ],
    [
      { ...valid, entities: { product: { ttl: '1m', ...{ hot: { window: 0 } } } } },
      'INVALID_CONFIG: options.entities.product.hot.window: expected a duration greater than 0',
    ],
    [
      { ...valid, entities: { product: { ttl: '1m', ...{ hot: { l1Ttl: 'soon' } } } } },
      "INVALID_CONFIG: options.entities.product.hot.l1Ttl: expected a duration (milliseconds as a number >= 0, or a string like '500ms', '30s', '10m', '1h'), got \"soon\"",
    ],
    [
      { ...valid, entities: { product: { ttl: '1m', ...{ hot: { treshold: {} } } } } },
      'INVALID_CONFIG: options.entities.product.hot: unknown option "treshold"',
    ],
    [
      { ...valid, entities: { product: { ttl: '1m', ...{ l2Timeout: 0 } } } },
      'INVALID_CONFIG: options.entities.product.l2Timeout: expected a duration greater than 0',
    ],
    [
      { ...valid, entities: { product: { ttl: '1m', ...{ softTimeout: -1 } } } },
      "INVALID_CONFIG: options.entities.product.softTimeout: expected a duration (milliseconds as a number >= 0, or a string like '500ms', '30s', '10m', '1h'), got -1",
    ],
    [
      { ...valid, entities: { product: { ttl: '1m', ...{ softTimeout: '1x' } } } },
      "INVALID_CONFIG: options.entities.product.softTimeout: expected a duration (milliseconds as a number >= 0, or a string like '500ms', '30s', '10m', '1h'), got \"1x\"",
    ],
    [
      { ...valid, entities: { product: { ttl: '1m', ...{ hardTimeout: 0 } } } },
      'INVALID_CONFIG: options.entities.product.hardTimeout: expected a duration greater than 0',
    ],
    [
      { ...valid, entities: { product: { ttl: '1m', ...{ beta: 101 } } } },
      'INVALID_CONFIG: options.entities.product.beta: Too big: expected number to be <=100',
    ],
    [
      { ...valid, entities: { product: { ttl: '1m', ...{ lockTtl: '0s' } } } },
      'INVALID_CONFIG: options.entities.product.lockTtl: expected a duration greater than 0',
    ],
    [
      { ...valid, entities: { product: { ttl: '1m', ...{ lockWait: true } } } },
      "INVALID_CONFIG: options.entities.product.lockWait: expected a duration (milliseconds as a number >= 0, or a string like '500ms', '30s', '10m', '1h'), got boolean",
    ],
    [
      { ...valid, entities: { product: { ttl: '1m', ...{ negativeTtl: true } } } },
      "INVALID_CONFIG: options.entities.product.negativeTtl: expected false or a duration (milliseconds as a number >= 0, or a string like '500ms', '30s', '10m', '1h'), got boolean",
    ],
    [
      { ...valid, entities: { product: { ttl: '1m', ...{ grace: '1 hour' } } } },
      "INVALID_CONFIG: options.entities.product.grace: expected a duration (milliseconds as a number >= 0, or a string like '500ms', '30s', '10m', '1h'), got \"1 hour\"",
    ],
    [
      { ...valid, entities: { product: { ttl: '1m', ...{ maxValueBytes: 0 } } } },
      'INVALID_CONFIG: options.entities.product.maxValueBytes: Too small: expected number to be >0',
    ],
    [
      { ...valid, entities: { product: { ttl: '1m', ...{ tags: ['brand'] } } } },
      'INVALID_CONFIG: options.entities.product.tags: expected a function (id, value) => string[]',
    ],
    [
      { ...valid, entities: { product: { ttl: '1m', ...{ schema: {} } } } },
      'INVALID_CONFIG: options.entities.product.schema: expected a schema with safeParse(value) returning { success } (e.g. a zod schema)',
    ],
    [
      { ...valid, entities: { product: { ttl: '1m', ...{ schema: { parse: () => 1 } } } } },
      'INVALID_CONFIG: options.entities.product.schema: expected a schema with safeParse(value) returning { success } (e.g. a zod schema)',
    ],
    [{ ...valid, breaker: true }, 'INVALID_CONFIG: options.breaker: expected false or object, received boolean'],
    [{ ...valid, breaker: { failures: 0 } }, 'INVALID_CONFIG: options.breaker.failures: Too small: expected number to be >0'],
    [
      { ...valid, breaker: { coolDown: 'long' } },
      "INVALID_CONFIG: options.breaker.coolDown: expected a duration (milliseconds as a number >= 0, or a string like '500ms', '30s', '10m', '1h'), got \"long\"",
    ],
    [{ ...valid, breaker: { probes: 1.5 } }, 'INVALID_CONFIG: options.breaker.probes: Invalid input: expected int, received number'],
    [{ ...valid, breaker: { fails: 3 } }, 'INVALID_CONFIG: options.breaker: unknown option "fails"'],
    [{ ...valid, l2Timeout: 0 }, 'INVALID_CONFIG: options.l2Timeout: expected a duration greater than 0'],
    [
      { ...valid, l2Timeout: 'fast' },
      "INVALID_CONFIG: options.l2Timeout: expected a duration (milliseconds as a number >= 0, or a string like '500ms', '30s', '10m', '1h'), got \"fast\"",
    ],
    [{ ...valid, bus: 'yes' }, 'INVALID_CONFIG: options.bus: Invalid input: expected boolean, received string'],
    [{ ...valid, clock: Date }, 'INVALID_CONFIG: options.clock: expected a clock { now(): number }'],
    [{ ...valid, random: 0.5 }, 'INVALID_CONFIG: options.random: expected a function returning [0, 1)'],
    [{ ...valid, l1: { ttl: '0ms' } }, 'INVALID_CONFIG: options.l1.ttl: expected a duration greater than 0'],
  ])('rejects %j with a message naming the field', (options, message) => {
    const error = configErrorOf(options)
    expect(error.name).toBe('TierCacheError')
    expect(error.code).toBe('INVALID_CONFIG')
    expect(error.message).toBe(message)
  })

  it('accepts a zod schema, or any object with safeParse, as an entity schema', () => {
    expect(() => createCache({ ...valid, entities: { product: { ttl: '1m', schema: z.object({ id: z.string() }) } } })).not.toThrow()
    expect(() =>
      createCache({ ...valid, entities: { product: { ttl: '1m', schema: { safeParse: () => ({ success: true }) } } } }),
    ).not.toThrow()
  })

  it('throws UNKNOWN_ENTITY for a name not configured', () => {
    const cache = createCache(valid)
    expect(() => cache.entity('user')).toThrowError('UNKNOWN_ENTITY: no entity named "user" in namespace "shop"; configured: "product"')
  })
})
