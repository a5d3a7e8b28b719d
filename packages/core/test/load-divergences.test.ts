import { deferred } from '@tiercache/testkit/helpers'
import { describe, expect, it } from 'vitest'
import { isTierCacheError } from '../src/index.js'
import { l1Cache } from './l1-cache.js'

const tick = () => new Promise((resolve) => setImmediate(resolve))

// Where the single-id path (`get`) and the batch path (`getMany`) used to differ (pinned as they
// were at 8933266, then decided): docs/decisions/0004-late-values-after-a-hard-timeout.md and
// docs/decisions/0005-counting-loader-errors.md. Both paths now behave alike.
describe('the single-id and the batch load paths (L1 only)', () => {
  it('after a hard timeout, the single-id path keeps the late value in L1', async () => {
    const { cache } = l1Cache({ product: { ttl: '10s', hardTimeout: 20 } })
    const products = cache.entity<string>('product')
    const gate = deferred<string>()
    await expect(products.get('1', () => gate.promise)).rejects.toSatisfy((error) => isTierCacheError(error, 'LOADER_TIMEOUT'))
    gate.resolve('late')
    await tick()
    expect(await products.get('1', async () => 'other')).toBe('late')
    expect(products.stats()).toMatchObject({ loads: 1, loadTimeouts: 1, loadErrors: 0 })
  })

  it('after a hard timeout, the batch path keeps the late values in L1 too', async () => {
    const { cache } = l1Cache({ product: { ttl: '10s', hardTimeout: 20 } })
    const products = cache.entity<string>('product')
    const gate = deferred<string[]>()
    await expect(products.getMany(['1', '2'], () => gate.promise)).rejects.toThrowError(
      'LOADER_TIMEOUT: entity "product": the batch loader took longer than hardTimeout 20 ms',
    )
    gate.resolve(['late-1', 'late-2'])
    await tick()
    expect(await products.getMany(['1', '2'], async (ids) => ids.map((id) => `other-${id}`))).toEqual(['late-1', 'late-2'])
    expect(await products.get('1', async () => 'other')).toBe('late-1')
    expect(products.stats()).toMatchObject({ loads: 1, loadTimeouts: 1, loadErrors: 0 })
  })

  it('a loader that throws a TierCacheError counts as a load error on the single-id path', async () => {
    const { cache } = l1Cache({ product: { ttl: '10s' }, other: { ttl: '10s' } })
    const products = cache.entity<string>('product')
    // A loader that reads another cache's entity can throw that cache's errors.
    const nested = async () => cache.entity<string>('other').get('\uD800', async () => 'x')
    await expect(products.get('1', nested)).rejects.toSatisfy((error) => isTierCacheError(error, 'INVALID_KEY'))
    expect(products.stats()).toMatchObject({ loads: 1, loadErrors: 1 })
  })

  it('a batch loader that throws a TierCacheError counts as a load error too', async () => {
    const { cache } = l1Cache({ product: { ttl: '10s' }, other: { ttl: '10s' } })
    const products = cache.entity<string>('product')
    const nested = async () => [await cache.entity<string>('other').get('\uD800', async () => 'x')]
    await expect(products.getMany(['1'], nested)).rejects.toSatisfy((error) => isTierCacheError(error, 'INVALID_KEY'))
    expect(products.stats()).toMatchObject({ loads: 1, loadErrors: 1 })
  })

  it('a batch loader whose result does not align with its ids counts as a load error, as it does through a single get', async () => {
    const { cache } = l1Cache({ product: { ttl: '10s' } })
    const products = cache.entity<string>('product')
    await expect(products.getMany(['1', '2'], async () => ['only one'])).rejects.toThrowError(
      'INVALID_LOADER_RESULT: entity "product": a batch loader must return an array aligned with its ids (length 2) or a Map from id to value, got an array of length 1',
    )
    expect(products.stats()).toMatchObject({ loads: 1, loadErrors: 1 })
  })
})
