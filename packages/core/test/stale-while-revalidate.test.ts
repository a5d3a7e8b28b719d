import { deferred } from '@tiercache/testkit/helpers'
import { describe, expect, it, vi } from 'vitest'
import { agedProduct, l1Cache } from './l1-cache.js'

const tick = () => new Promise((resolve) => setImmediate(resolve))

describe('stale-while-revalidate, fail-safe, timeouts and early refresh (L1 only)', () => {
  it('serves the stale value within grace at once and refreshes it in the background', async () => {
    const { products } = await agedProduct({ ttl: '10s', grace: '1m', beta: 0 }, 10_000)
    const gate = deferred<string>()
    const refresh = vi.fn(() => gate.promise)
    expect(await products.get('1', refresh)).toBe('v1')
    expect(await products.get('1', refresh)).toBe('v1')
    expect(refresh).toHaveBeenCalledTimes(1)
    gate.resolve('v2')
    await tick()
    expect(await products.get('1', refresh)).toBe('v2')
    expect(products.stats()).toMatchObject({ staleServed: 2, loads: 2 })
  })

  it('past grace, waits for the load', async () => {
    const { products } = await agedProduct({ ttl: '10s', grace: '1m', beta: 0 }, 70_000)
    expect(await products.get('1', async () => 'v2')).toBe('v2')
  })

  it('keeps serving stale when the refresh fails, and backs off before trying again', async () => {
    const { clock, logger, products } = await agedProduct({ ttl: '10s', grace: '1h', beta: 0 }, 10_000)
    const failing = vi.fn(async () => {
      throw new Error('db down')
    })
    expect(await products.get('1', failing)).toBe('v1')
    await tick()
    expect(failing).toHaveBeenCalledTimes(1)
    expect(logger.records.some((r) => r.level === 'warn' && r.msg === 'refresh failed; serving the stale value (fail-safe)')).toBe(true)
    // within the first backoff (1 s) no new attempt
    clock.advance(999)
    expect(await products.get('1', failing)).toBe('v1')
    await tick()
    expect(failing).toHaveBeenCalledTimes(1)
    clock.advance(1)
    expect(await products.get('1', failing)).toBe('v1')
    await tick()
    expect(failing).toHaveBeenCalledTimes(2)
    // the second backoff is 2 s
    clock.advance(1_999)
    await products.get('1', failing)
    await tick()
    expect(failing).toHaveBeenCalledTimes(2)
    clock.advance(1)
    expect(await products.get('1', async () => 'v2')).toBe('v1')
    await tick()
    expect(await products.get('1', failing)).toBe('v2')
  })

  it('with softTimeout, returns a fast refresh result and a slow refresh falls back to stale', async () => {
    const { clock, products } = await agedProduct({ ttl: '10s', grace: '1h', softTimeout: 30, beta: 0 }, 10_000)
    expect(await products.get('1', async () => 'v2')).toBe('v2')
    clock.advance(10_000)
    const gate = deferred<string>()
    expect(await products.get('1', () => gate.promise)).toBe('v2')
    gate.resolve('v3')
    await tick()
    expect(await products.get('1', async () => 'v4')).toBe('v3')
  })

  it('rejects with LOADER_TIMEOUT past hardTimeout when there is nothing stale, and keeps the late value', async () => {
    const { cache } = l1Cache({ product: { ttl: '10s', hardTimeout: 20 } })
    const products = cache.entity<string>('product')
    const gate = deferred<string>()
    await expect(products.get('1', () => gate.promise)).rejects.toThrowError(
      'LOADER_TIMEOUT: entity "product" id "1": the loader took longer than hardTimeout 20 ms and there is no stale value to serve',
    )
    expect(products.stats().loadTimeouts).toBe(1)
    gate.resolve('late')
    await tick()
    expect(await products.get('1', async () => 'other')).toBe('late')
  })

  it('refreshes early with the XFetch probability, in the background', async () => {
    const draws: number[] = []
    let next = 0
    const { cache, clock } = l1Cache(
      { product: { ttl: 10_000, beta: 1, hot: false } },
      {
        random: () => {
          draws.push(next)
          return next
        },
      },
    )
    const products = cache.entity<string>('product')
    // a load that takes 100 ms on the injected clock
    await products.get('1', async () => {
      clock.advance(100)
      return 'v1'
    })
    const loadedAt = clock.now()
    // 5 s before expiry: outside 20 * loadMs, no draw at all
    clock.set(loadedAt + 5_000)
    const loader = vi.fn(async () => 'v2')
    await products.get('1', loader)
    expect(draws).toHaveLength(0)
    // 200 ms before expiry: refresh iff -ln(1 - r) >= 2
    clock.set(loadedAt + 9_800)
    next = 0.5 // -ln(0.5) = 0.69 < 2
    expect(await products.get('1', loader)).toBe('v1')
    expect(loader).not.toHaveBeenCalled()
    next = 0.9 // -ln(0.1) = 2.30 >= 2
    expect(await products.get('1', loader)).toBe('v1')
    await tick()
    expect(loader).toHaveBeenCalledTimes(1)
    expect(products.stats().earlyRefreshes).toBe(1)
    expect(await products.get('1', loader)).toBe('v2')
  })

  it('invalidateTag drops tagged entries and keeps a load that raced it out of L1', async () => {
    const { cache } = l1Cache({
      list: { ttl: '1m', tags: (_id, value) => [`category:${(value as { category: number }).category}`] },
    })
    const lists = cache.entity<{ category: number; v: number }>('list')
    await lists.get('a', async () => ({ category: 7, v: 1 }))
    await lists.get('b', async () => ({ category: 8, v: 1 }))
    const gate = deferred<{ category: number; v: number }>()
    const racing = lists.get('c', () => gate.promise)
    await cache.invalidateTag('category:7')
    gate.resolve({ category: 7, v: 1 })
    expect(await racing).toEqual({ category: 7, v: 1 })
    expect(await lists.get('a', async () => ({ category: 7, v: 2 }))).toEqual({ category: 7, v: 2 })
    expect(await lists.get('b', async () => ({ category: 8, v: 2 }))).toEqual({ category: 8, v: 1 })
    expect(await lists.get('c', async () => ({ category: 7, v: 2 }))).toEqual({ category: 7, v: 2 })
  })

  it('rejects bad tags with INVALID_KEY', async () => {
    const { cache } = l1Cache({ list: { ttl: '1m' } })
    await expect(cache.invalidateTag('')).rejects.toThrowError(
      'INVALID_KEY: invalidateTag: a tag must be a non-empty string of at most 512 characters',
    )
  })
})
