import { deferred } from '@tiercache/testkit/helpers'
import { describe, expect, it } from 'vitest'
import { TierCacheError } from '../src/index.js'
import { l1Cache } from './l1-cache.js'

async function rejection(promise: Promise<unknown>): Promise<TierCacheError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof TierCacheError) return error
    throw error
  }
  throw new Error('expected a rejection')
}

describe('TierCacheError fields', () => {
  it('carries the entity and the id of a bad id, with the message unchanged', async () => {
    const { cache } = l1Cache({ product: { ttl: '10s' } })
    const error = await rejection(cache.entity<string>('product').get('\uD800', async () => 'x'))
    expect(error.code).toBe('INVALID_KEY')
    expect(error.entity).toBe('product')
    expect(error.id).toBe('\uD800')
    expect(error.message).toBe(
      'INVALID_KEY: entity "product": an id must be well-formed UTF-16, got one with a lone surrogate (Redis would store it as U+FFFD and mix it up with other ids)',
    )
  })

  it('carries the entity, not an id, when the id itself is not a string', async () => {
    const { cache } = l1Cache({ product: { ttl: '10s' } })
    const error = await rejection(cache.entity<string>('product').get(42 as unknown as string, async () => 'x'))
    expect(error.code).toBe('INVALID_KEY')
    expect(error.entity).toBe('product')
    expect(error.id).toBeUndefined()
  })

  it('carries the entity and the id of a load past its hard timeout', async () => {
    const { cache } = l1Cache({ product: { ttl: '10s', hardTimeout: 20 } })
    const gate = deferred<string>()
    const error = await rejection(cache.entity<string>('product').get('7', () => gate.promise))
    gate.resolve('late')
    expect(error.code).toBe('LOADER_TIMEOUT')
    expect(error).toMatchObject({ entity: 'product', id: '7' })
    expect(error.message).toBe(
      'LOADER_TIMEOUT: entity "product" id "7": the loader took longer than hardTimeout 20 ms and there is no stale value to serve',
    )
  })

  it('carries the entity of a batch load past its hard timeout, and no id', async () => {
    const { cache } = l1Cache({ product: { ttl: '10s', hardTimeout: 20 } })
    const gate = deferred<string[]>()
    const error = await rejection(cache.entity<string>('product').getMany(['1', '2'], () => gate.promise))
    gate.resolve(['a', 'b'])
    expect(error).toMatchObject({ code: 'LOADER_TIMEOUT', entity: 'product', id: undefined })
  })

  it('carries the entity and the id of a value too large to cache, on the logged error', async () => {
    const { cache, logger } = l1Cache({ product: { ttl: '10s', maxValueBytes: 8 } })
    expect(await cache.entity<string>('product').get('big', async () => 'more than eight bytes')).toBe('more than eight bytes')
    const logged = logger.records.find((record) => record.msg === 'value not cached')?.obj as { err?: unknown } | undefined
    expect(logged?.err).toBeInstanceOf(TierCacheError)
    expect(logged?.err).toMatchObject({ code: 'VALUE_TOO_LARGE', entity: 'product', id: 'big' })
  })

  it('carries the entity and the id of a value that cannot be serialized', async () => {
    const { cache, logger } = l1Cache({ product: { ttl: '10s' } })
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    await cache.entity<unknown>('product').get('c', async () => cyclic)
    const logged = logger.records.find((record) => record.msg === 'value not cached')?.obj as { err?: unknown } | undefined
    expect(logged?.err).toMatchObject({ code: 'VALUE_NOT_SERIALIZABLE', entity: 'product', id: 'c' })
  })

  it('carries neither when the error is about no entity', async () => {
    const { cache } = l1Cache({ product: { ttl: '10s' } })
    const error = await rejection(cache.invalidateTag(''))
    expect(error).toMatchObject({ code: 'INVALID_KEY', entity: undefined, id: undefined })
    expect(() => cache.entity('nope')).toThrowError(expect.objectContaining({ code: 'UNKNOWN_ENTITY', entity: undefined }))
  })

  it('keeps the cause it is given', () => {
    const cause = new Error('underneath')
    const error = new TierCacheError('L2_TIMEOUT', 'get took longer than 50 ms', { cause, entity: 'product', id: '1' })
    expect(error.cause).toBe(cause)
    expect(error.message).toBe('L2_TIMEOUT: get took longer than 50 ms')
    expect(error).toMatchObject({ entity: 'product', id: '1' })
    expect('cause' in new TierCacheError('L2_TIMEOUT', 'x')).toBe(false)
  })
})
