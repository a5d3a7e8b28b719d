import { loopUntilTimerFires } from '@tiercache/testkit/helpers'
import { describe, expect, it } from 'vitest'
import type { BreakerState } from '../src/l2/circuit-breaker.js'
import { ShardBreakers } from '../src/l2/shard-breakers.js'
import { SkippedCalls } from '../src/l2/skipped-calls.js'
import { ManualClock } from '../src/util/clock.js'

const OPTIONS = { failureThreshold: 2, coolDownMs: 1_000, probeSuccesses: 1 }

function breakers(shardOf?: (key: string) => string) {
  const clock = new ManualClock()
  const shardEvents: [string, BreakerState][] = []
  const storeEvents: BreakerState[] = []
  const all = new ShardBreakers(shardOf, OPTIONS, clock, {
    onShardChange: (shard, state) => shardEvents.push([shard, state]),
    onStoreChange: (state) => storeEvents.push(state),
  })
  return { all, clock, shardEvents, storeEvents }
}

// Keys name their shard before the colon, as a cluster store's slot owner would.
const byPrefix = (key: string) => key.split(':')[0] as string

describe('breakers per shard', () => {
  it('failures on one shard open its breaker only: the store stays closed and the other shards are used', () => {
    const { all, shardEvents, storeEvents } = breakers(byPrefix)
    all.of('b:1')
    for (let i = 0; i < 2; i++) all.of('a:1').failed()
    expect(all.of('a:2').allow()).toBe(false)
    expect(all.of('b:1').allow()).toBe(true)
    expect(shardEvents).toEqual([['a', 'open']])
    expect(storeEvents).toEqual([])
    expect(all.state).toBe('closed')
    expect(all.shards()).toEqual({ a: 'open', b: 'closed' })
  })

  it('counts the store as open only when every shard is, and closed again once one shard is', () => {
    const { all, clock, storeEvents } = breakers(byPrefix)
    all.of('b:1').allow()
    for (const key of ['a:1', 'a:1', 'b:1', 'b:1']) all.of(key).failed()
    expect(all.state).toBe('open')
    clock.advance(1_000)
    expect(all.of('a:1').allow()).toBe(true)
    all.of('a:1').succeeded()
    expect(storeEvents).toEqual(['open', 'half-open', 'closed'])
  })

  it('a topology change of a shard lets its probe through at once, without waiting out the cool-down', () => {
    const { all } = breakers(byPrefix)
    for (let i = 0; i < 2; i++) all.of('a:1').failed()
    expect(all.of('a:1').allow()).toBe(false)
    all.probe(['a', 'never-seen'])
    expect(all.of('a:1').allow()).toBe(true)
    expect(all.shards()).toEqual({ a: 'half-open' })
  })

  it('a listener told of half-open may send its own probe first (the outbox does), and the probe that triggered it still counts', () => {
    const clock = new ManualClock()
    let nested: boolean | undefined
    const all: ShardBreakers = new ShardBreakers(byPrefix, { ...OPTIONS, probeSuccesses: 2 }, clock, {
      onShardChange: (_, state) => {
        if (state === 'half-open') nested = all.of('a:9').allow()
      },
      onStoreChange: () => {},
    })
    for (let i = 0; i < 2; i++) all.of('a:1').failed()
    clock.advance(1_000)
    expect(all.of('a:1').allow()).toBe(true)
    expect(nested).toBe(true)
    // Both probe slots are taken: a third call waits.
    expect(all.of('a:2').allow()).toBe(false)
  })

  it('forgets the breakers of shards that own no slots after a topology change, and counts the store by the shards left', () => {
    const { all, storeEvents } = breakers(byPrefix)
    all.of('b:1')
    // Shard a dies: its breaker opens; b stays closed, so the store is closed.
    for (let i = 0; i < 2; i++) all.of('a:1').failed()
    all.of('c:1')
    expect(all.shards()).toEqual({ a: 'open', b: 'closed', c: 'closed' })
    // a was failed over and left; c left too. Only b owns slots now.
    all.prune(['b'])
    expect(all.shards()).toEqual({ b: 'closed' })
    // b fails: it is the only shard left, so the store is open (a's old breaker no longer counts).
    for (let i = 0; i < 2; i++) all.of('b:1').failed()
    expect(all.state).toBe('open')
    expect(storeEvents).toEqual(['open'])
    // A shard that comes back starts with a new, closed breaker, and the store is usable again.
    expect(all.of('a:1').allow()).toBe(true)
    expect(all.shards()).toEqual({ b: 'open', a: 'closed' })
    expect(all.state).toBe('closed')
    expect(storeEvents).toEqual(['open', 'closed'])
  })

  it('a store without shardOf is one shard, `store`', () => {
    const { all } = breakers()
    expect(all.sharded).toBe(false)
    expect(all.of('a:1')).toBe(all.of('b:1'))
    expect(all.shards()).toEqual({ store: 'closed' })
  })
})

describe('skipped calls', () => {
  it('reject with L2_UNAVAILABLE and let a timer run during an unbroken loop of them', async () => {
    const skipped = new SkippedCalls()
    // Without a turn of the event loop now and then, this loop would run all its iterations first.
    const loop = await loopUntilTimerFires(5_000_000, async () => {
      await expect(skipped.skip('get')).rejects.toMatchObject({ code: 'L2_UNAVAILABLE' })
    })
    expect(loop.fired).toBe(true)
  })
})
