import { type TracingChannelSubscribers, tracingChannel } from 'node:diagnostics_channel'
import { deferred } from '@tiercache/testkit/helpers'
import { faultyStore, MemoryServer, memoryStore } from '@tiercache/testkit/memory'
import { afterEach, describe, expect, it } from 'vitest'
import {
  createCache,
  L2_TRACING_CHANNEL,
  type L2TraceContext,
  TierCacheError,
  TRACING_CHANNELS,
  type TraceContext,
  type TracedOperation,
} from '../src/index.js'
import { l1Cache } from './l1-cache.js'

interface Recorded {
  event: 'start' | 'end' | 'asyncStart' | 'asyncEnd' | 'error'
  context: TraceContext
  /** A copy of the context when the event was published (the object itself changes later). */
  seen: TraceContext
}

const subscriptions: [TracedOperation, TracingChannelSubscribers<TraceContext>][] = []
afterEach(() => {
  for (const [operation, subscribers] of subscriptions.splice(0))
    tracingChannel<unknown, TraceContext>(TRACING_CHANNELS[operation]).unsubscribe(subscribers)
})

/** Subscribes to every event of one tracing channel for the test. */
function record(operation: TracedOperation): Recorded[] {
  const events: Recorded[] = []
  const on = (event: Recorded['event']) => (context: TraceContext) => events.push({ event, context, seen: { ...context } })
  const subscribers = { start: on('start'), end: on('end'), asyncStart: on('asyncStart'), asyncEnd: on('asyncEnd'), error: on('error') }
  tracingChannel<unknown, TraceContext>(TRACING_CHANNELS[operation]).subscribe(subscribers)
  subscriptions.push([operation, subscribers])
  return events
}

const ends = (events: Recorded[]) => events.filter(({ event }) => event === 'asyncEnd').map(({ seen }) => seen)

describe('tracing channels', () => {
  it('traces get with start, end, asyncStart and asyncEnd on one context, outcome miss then hit', async () => {
    const events = record('get')
    const { cache } = l1Cache({ product: { ttl: '1m' } })
    const products = cache.entity<string>('product')
    await products.get('1', async () => 'one')
    await products.get('1', async () => 'unused')

    expect(events.slice(0, 4).map(({ event }) => event)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd'])
    expect(new Set(events.slice(0, 4).map(({ context }) => context)).size).toBe(1)
    expect(events[0]?.seen).toEqual({ operation: 'get', namespace: 'test', entity: 'product', count: 1 })
    expect(ends(events)).toEqual([
      { operation: 'get', namespace: 'test', entity: 'product', count: 1, tier: 'miss', outcome: 'miss', result: 'one' },
      { operation: 'get', namespace: 'test', entity: 'product', count: 1, tier: 'l1', outcome: 'hit', result: 'one' },
    ])
  })

  it('gives a stale read outcome stale, and callers joining a load the tier of that load', async () => {
    const events = record('get')
    const { cache, clock } = l1Cache({ product: { ttl: '10s', grace: '1m', beta: 0 } })
    const products = cache.entity<string>('product')
    const load = deferred<string>()
    const first = products.get('1', () => load.promise)
    const joined = products.get('1', async () => 'unused')
    load.resolve('v1')
    await Promise.all([first, joined])
    clock.advance(10_000)
    await products.get('1', async () => 'v2')

    expect(ends(events).map(({ tier, outcome }) => [tier, outcome])).toEqual([
      ['miss', 'miss'],
      ['miss', 'miss'],
      ['stale', 'stale'],
    ])
  })

  it('publishes error with outcome error when the loader fails', async () => {
    const events = record('get')
    const { cache } = l1Cache({ product: { ttl: '1m' } })
    const failure = new Error('database down')
    await expect(cache.entity<string>('product').get('1', async () => Promise.reject(failure))).rejects.toBe(failure)

    const error = events.find(({ event }) => event === 'error')
    expect(error?.seen).toMatchObject({ outcome: 'error', error: failure })
    expect(ends(events)).toEqual([expect.objectContaining({ outcome: 'error', error: failure })])
  })

  it('puts ids in the context only with tracing.ids', async () => {
    const events = record('get')
    const loads = record('load')
    const { cache } = l1Cache({ product: { ttl: '1m' } }, { tracing: { ids: true } })
    await cache.entity<string>('product').get('42', async () => 'v')
    expect(ends(events)[0]).toMatchObject({ id: '42', count: 1 })
    expect(ends(loads)[0]).toMatchObject({ operation: 'load', id: '42', count: 1, outcome: 'ok' })

    const { cache: anonymous } = l1Cache({ product: { ttl: '1m' } })
    await anonymous.entity<string>('product').get('43', async () => 'v')
    expect(ends(events)[1]).not.toHaveProperty('id')
    expect(ends(loads)[1]).not.toHaveProperty('id')
  })

  it('traces getMany, the batch load, set, invalidate and invalidateTag', async () => {
    const getMany = record('getMany')
    const load = record('load')
    const set = record('set')
    const invalidate = record('invalidate')
    const { cache } = l1Cache({ product: { ttl: '1m', tags: () => ['sale'] } })
    const products = cache.entity<string>('product')
    await products.getMany(['1', '2'], async (ids) => ids.map((id) => `v${id}`))
    await products.set('3', 'v3')
    await products.invalidate(['1', '2'])
    await cache.invalidateTag('sale')

    expect(ends(getMany)).toEqual([expect.objectContaining({ operation: 'getMany', entity: 'product', count: 2, outcome: 'ok' })])
    expect(ends(load)).toEqual([expect.objectContaining({ operation: 'load', count: 2, outcome: 'ok' })])
    expect(ends(set)).toEqual([expect.objectContaining({ operation: 'set', count: 1, outcome: 'ok' })])
    expect(ends(invalidate)).toEqual([
      expect.objectContaining({ operation: 'invalidate', entity: 'product', count: 2, outcome: 'ok' }),
      expect.objectContaining({ operation: 'invalidate', entity: undefined, tags: ['sale'], count: 1, outcome: 'ok' }),
    ])
  })

  it('rejects a bad get id with the same INVALID_KEY error, traced as an error', async () => {
    const events = record('get')
    const { cache } = l1Cache({ product: { ttl: '1m' } })
    const read = cache.entity<string>('product').get('', async () => 'v')
    await expect(read).rejects.toThrow(TierCacheError)
    await expect(read).rejects.toMatchObject({ code: 'INVALID_KEY' })
    expect(ends(events)).toEqual([expect.objectContaining({ outcome: 'error' })])
  })

  it('rejects a tracing option that is not { ids: boolean } with INVALID_CONFIG', () => {
    const create = () => l1Cache({ product: { ttl: '1m' } }, { tracing: { ids: 'yes' } as never })
    expect(create).toThrow(TierCacheError)
    expect(create).toThrow(/tracing\.ids/)
    expect(create).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }))
  })
})

describe('the L2 tracing channel', () => {
  it('traces each guarded store call with its command, shard and outcome: ok, error, then skipped by the open breaker', async () => {
    const seen: L2TraceContext[] = []
    const subscribers = {
      start() {},
      end() {},
      asyncStart() {},
      error() {},
      asyncEnd: (context: L2TraceContext) => seen.push({ ...context }),
    }
    const channel = tracingChannel<unknown, L2TraceContext>(L2_TRACING_CHANNEL)
    channel.subscribe(subscribers)
    try {
      const store = faultyStore(memoryStore({ server: new MemoryServer() }))
      const cache = createCache({
        namespace: 'traced',
        l2: store,
        breaker: { failures: 1, coolDown: '1m', probes: 1 },
        entities: { product: { ttl: '1m', l1: false, hot: false } },
      })
      const products = cache.entity<string>('product')
      await products.get('1', async () => 'one')
      expect(seen.find((context) => context.command === 'get')).toEqual({
        operation: 'l2',
        command: 'get',
        namespace: 'traced',
        store: store.name,
        shard: 'store',
        count: 1,
        outcome: 'ok',
        result: null,
      })
      seen.length = 0
      const failure = new Error('connection reset')
      store.faults.fail(['get'], () => failure)
      expect(await products.get('2', async () => 'two')).toBe('two')
      expect(seen[0]).toMatchObject({ command: 'get', outcome: 'error', error: failure })
      // The breaker (one failure) is open now: the next call is skipped, without I/O.
      seen.length = 0
      expect(await products.get('3', async () => 'three')).toBe('three')
      expect(seen.map(({ command, outcome }) => `${command}:${outcome}`)).toContain('get:skipped')
      expect(seen.find((context) => context.outcome === 'skipped')?.error).toMatchObject({ code: 'L2_UNAVAILABLE' })
      await cache.close()
    } finally {
      channel.unsubscribe(subscribers)
    }
  })
})
