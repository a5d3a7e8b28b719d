import { afterEach, describe, expect, it } from 'vitest'
import type { BreakerEvent } from '../../src/index.js'
import { closeAll, memoryFleet } from './memory-fleet.js'

afterEach(closeAll)

const breaker = { failures: 3, coolDown: '5s', probes: 2 }

/** One instance whose L2 fails every call, after two cold reads: enough failures to open the breaker. */
async function openedBreaker(options: { l2Timeout?: number } = {}) {
  const fleet = memoryFleet(1, { product: { ttl: '1m', l1: false } }, { breaker, ...options })
  const states: string[] = []
  fleet.at(0).cache.on('breaker', (event: BreakerEvent) => states.push(event.state))
  const { store } = fleet.at(0)
  const products = fleet.at(0).entity<string>('product')
  store.faults.fail()
  // A cold read fails twice on L2 (the read, then the lock); two of them reach the threshold of three.
  expect(await products.get('1', async () => 'a')).toBe('a')
  expect(await products.get('2', async () => 'b')).toBe('b')
  return { fleet, states, store, products }
}

describe('the L2 circuit breaker (in-memory L2)', () => {
  it('opens after the configured failures, skips L2 while open, and still answers from the loader', async () => {
    const { fleet, states, store, products } = await openedBreaker()
    expect(states).toEqual(['open'])
    expect(fleet.at(0).cache.breakerState()).toBe('open')
    const callsWhenOpened = store.faults.calls('get') + store.faults.calls('acquireLock')
    expect(await products.get('3', async () => 'c')).toBe('c')
    expect(store.faults.calls('get') + store.faults.calls('acquireLock')).toBe(callsWhenOpened)
  })

  it('probes L2 after the cool-down and closes once the probes succeed', async () => {
    const { fleet, states, store, products } = await openedBreaker()
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
    const { fleet, states, products } = await openedBreaker()
    fleet.clock.advance(5_000)
    expect(await products.get('3', async () => 'c')).toBe('c')
    expect(states).toEqual(['open', 'half-open', 'open'])
  })

  it('counts an L2 call that hangs past l2Timeout as a failure', async () => {
    const fleet = memoryFleet(1, { product: { ttl: '1m', l1: false } }, { breaker: { ...breaker, failures: 1 }, l2Timeout: 10 })
    const states: string[] = []
    fleet.at(0).cache.on('breaker', (event: BreakerEvent) => states.push(event.state))
    const products = fleet.at(0).entity<string>('product')
    // Until L2 first answers, calls wait up to the connect timeout instead (a cluster loading its slot map).
    await products.get('0', async () => 'connected')
    fleet.at(0).store.faults.hang()
    expect(await products.get('1', async () => 'a')).toBe('a')
    expect(states).toEqual(['open'])
  })
})
