import { afterEach, describe, expect, it } from 'vitest'
import type { BreakerEvent } from '../../src/index.js'
import { closeAll, memoryFleet } from './memory-fleet.js'

afterEach(closeAll)

const breaker = { failures: 3, coolDown: '5s', probes: 2 }

function watch(fleet: ReturnType<typeof memoryFleet>): string[] {
  const states: string[] = []
  fleet.at(0).cache.on('breaker', (event: BreakerEvent) => states.push(event.state))
  return states
}

describe('the L2 circuit breaker (in-memory L2)', () => {
  it('opens after the configured failures, skips L2 while open, and still answers from the loader', async () => {
    const fleet = memoryFleet(1, { product: { ttl: '1m', l1: false } }, { breaker })
    const states = watch(fleet)
    const { store } = fleet.at(0)
    const products = fleet.at(0).entity<string>('product')
    store.faults.fail()
    // A cold read fails twice on L2 (the read, then the lock); two of them open the breaker.
    expect(await products.get('1', async () => 'a')).toBe('a')
    expect(await products.get('2', async () => 'b')).toBe('b')
    expect(states).toEqual(['open'])
    expect(fleet.at(0).cache.breakerState()).toBe('open')
    const callsWhenOpened = store.faults.calls('get') + store.faults.calls('acquireLock')
    expect(await products.get('3', async () => 'c')).toBe('c')
    expect(store.faults.calls('get') + store.faults.calls('acquireLock')).toBe(callsWhenOpened)
  })

  it('probes L2 after the cool-down and closes once the probes succeed', async () => {
    const fleet = memoryFleet(1, { product: { ttl: '1m', l1: false } }, { breaker })
    const states = watch(fleet)
    const { store } = fleet.at(0)
    const products = fleet.at(0).entity<string>('product')
    store.faults.fail()
    await products.get('1', async () => 'a')
    await products.get('2', async () => 'b')
    store.faults.heal()
    fleet.clock.advance(4_999)
    await products.get('3', async () => 'c')
    expect(states).toEqual(['open'])
    fleet.clock.advance(1)
    await products.get('4', async () => 'd')
    expect(states).toEqual(['open', 'half-open', 'closed'])
    // Closed again: the value loaded just now is read back from L2.
    expect(await products.get('4', async () => 'not read')).toBe('d')
  })

  it('opens again when a probe fails', async () => {
    const fleet = memoryFleet(1, { product: { ttl: '1m', l1: false } }, { breaker })
    const states = watch(fleet)
    const { store } = fleet.at(0)
    const products = fleet.at(0).entity<string>('product')
    store.faults.fail()
    await products.get('1', async () => 'a')
    await products.get('2', async () => 'b')
    fleet.clock.advance(5_000)
    expect(await products.get('3', async () => 'c')).toBe('c')
    expect(states).toEqual(['open', 'half-open', 'open'])
  })

  it('counts an L2 call that hangs past l2Timeout as a failure', async () => {
    const fleet = memoryFleet(1, { product: { ttl: '1m', l1: false } }, { breaker: { ...breaker, failures: 1 }, l2Timeout: 10 })
    const states = watch(fleet)
    const products = fleet.at(0).entity<string>('product')
    // Until L2 first answers, calls wait up to the connect timeout instead (a cluster loading its slot map).
    await products.get('0', async () => 'connected')
    fleet.at(0).store.faults.hang()
    expect(await products.get('1', async () => 'a')).toBe('a')
    expect(states).toEqual(['open'])
  })
})
