import { describe, expect, it } from 'vitest'
import { deferred, eventually, faultyStore, MemoryServer, memoryStore } from '../src/index.js'

describe('faultyStore', () => {
  it('passes calls through unchanged while no switch is on, and counts them', async () => {
    const store = faultyStore(memoryStore())
    await store.set('k', 'v', 60_000)
    expect(await store.get('k')).toBe('v')
    expect([store.faults.calls('set'), store.faults.calls('get'), store.faults.calls('getMany')]).toEqual([1, 1, 0])
  })

  it('fails the named methods only, until healed', async () => {
    const store = faultyStore(memoryStore())
    await store.set('k', 'v', 60_000)
    store.faults.fail(['get'])
    await expect(store.get('k')).rejects.toThrow('injected fault: get')
    expect(await store.getMany(['k'])).toEqual(['v'])
    store.faults.heal()
    expect(await store.get('k')).toBe('v')
  })

  it('rejects with the error the test gives', async () => {
    const store = faultyStore(memoryStore())
    store.faults.fail(['set'], () => new Error('READONLY'))
    await expect(store.set('k', 'v', 1_000)).rejects.toThrow('READONLY')
  })

  it('hangs calls that never settle and never reach the store', async () => {
    const store = faultyStore(memoryStore())
    store.faults.hang(['set'])
    let settled = false
    void store.set('k', 'v', 60_000).finally(() => {
      settled = true
    })
    // The store's own calls settle on a microtask; one macrotask later the hung call still has not.
    await new Promise((resolve) => setImmediate(resolve))
    expect(settled).toBe(false)
    expect(store.faults.hanging).toBe(1)
    expect(await store.inner.get('k')).toBeNull()
  })

  it('delays calls by the added latency, then runs them', async () => {
    const store = faultyStore(memoryStore())
    store.faults.delay(20, ['get'])
    const order: string[] = []
    const slow = store.get('k').then(() => order.push('get'))
    const fast = store.getMany(['k']).then(() => order.push('getMany'))
    await Promise.all([slow, fast])
    expect(order).toEqual(['getMany', 'get'])
  })

  it('drops the bus: tells subscribers, loses messages meanwhile, and tells them when it is back', async () => {
    const server = new MemoryServer()
    const publisher = memoryStore({ server })
    const store = faultyStore(memoryStore({ server }))
    const events: string[] = []
    const reconnected = deferred()
    await store.subscribe('bus', {
      onMessage: (message) => events.push(message),
      onDisconnect: () => events.push('disconnect'),
      onReconnect: () => {
        events.push('reconnect')
        reconnected.resolve()
      },
    })
    await publisher.publish('bus', 'before')
    await eventually(() => events.includes('before'))
    store.faults.dropBus()
    await publisher.publish('bus', 'lost')
    await eventually(() => store.faults.lostMessages === 1)
    store.faults.restoreBus()
    await reconnected.promise
    await publisher.publish('bus', 'after')
    await eventually(() => events.includes('after'))
    expect(events).toEqual(['before', 'disconnect', 'reconnect', 'after'])
  })

  it('keeps the optional methods the store underneath has', () => {
    const store = faultyStore(memoryStore())
    expect(typeof store.deleteByPrefix).toBe('function')
    expect(typeof store.ready).toBe('function')
    expect(store.getHot).toBeUndefined()
  })
})
