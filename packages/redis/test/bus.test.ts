import { busRecorder, EVENTUALLY, testCluster, testStandalone } from '@tiercache/testkit'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { type BusMode, keySlot, type RedisRemoteStore, redisClusterStore, redisStore } from '../src/index.js'
import { type Admin, clusterAdmin, standaloneAdmin, storeConnections } from './admin.js'

async function killPubSubConnections(admin: Admin): Promise<number> {
  let killed = 0
  for (const port of admin.allPorts()) killed += Number(await admin.send(port, ['CLIENT', 'KILL', 'TYPE', 'pubsub']))
  return killed
}

const cases: { kind: string; bus: BusMode; admin: () => Admin; create: (bus: BusMode) => RedisRemoteStore }[] = []
for (const bus of ['publish', 'spublish'] as const) {
  cases.push({
    kind: 'cluster',
    bus,
    admin: clusterAdmin,
    create: (mode) => redisClusterStore({ nodes: testCluster().seeds(), bus: mode }),
  })
  cases.push({
    kind: 'standalone',
    bus,
    admin: standaloneAdmin,
    create: (mode) => redisStore({ host: testStandalone().host, port: testStandalone().port, bus: mode }),
  })
}

describe.each(cases)('the $bus bus of a $kind store', ({ bus, admin: makeAdmin, create }) => {
  const stores: RedisRemoteStore[] = []
  function open(): RedisRemoteStore {
    const store = create(bus)
    stores.push(store)
    return store
  }
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()))
  })

  it('delivers messages from another instance, and its own', async () => {
    const [a, b] = [open(), open()]
    const onA = busRecorder()
    const onB = busRecorder()
    await a.subscribe('bus:deliver', onA.handlers)
    await b.subscribe('bus:deliver', onB.handlers)
    await a.publish('bus:deliver', 'from a')
    await b.publish('bus:deliver', 'from b')
    await vi.waitFor(() => {
      expect([...onA.heard.messages].sort()).toEqual(['from a', 'from b'])
      expect([...onB.heard.messages].sort()).toEqual(['from a', 'from b'])
    }, EVENTUALLY)
  })

  it('fires onDisconnect and onReconnect when the subscriber connection is killed, and messages flow again', async () => {
    const store = open()
    const { heard, handlers } = busRecorder()
    await store.subscribe('bus:killed', handlers)
    await store.publish('bus:killed', 'before')
    await vi.waitFor(() => expect(heard.messages).toEqual(['before']), EVENTUALLY)

    expect(await killPubSubConnections(makeAdmin())).toBeGreaterThanOrEqual(1)
    await vi.waitFor(() => expect(heard).toMatchObject({ disconnects: 1, reconnects: 1 }), EVENTUALLY)

    await store.publish('bus:killed', 'after')
    await vi.waitFor(() => expect(heard.messages).toEqual(['before', 'after']), EVENTUALLY)
    expect(heard).toMatchObject({ disconnects: 1, reconnects: 1 })
  })

  it('shares one server subscription per channel and stops delivering to a subscription once unsubscribed', async () => {
    const store = open()
    const first = busRecorder()
    const second = busRecorder()
    const subscription = await store.subscribe('bus:shared', first.handlers)
    await store.subscribe('bus:shared', second.handlers)
    await store.publish('bus:shared', 'one')
    await vi.waitFor(() => expect(second.heard.messages).toEqual(['one']), EVENTUALLY)

    await subscription.unsubscribe()
    await subscription.unsubscribe() // idempotent
    await store.publish('bus:shared', 'two')
    await vi.waitFor(() => expect(second.heard.messages).toEqual(['one', 'two']), EVENTUALLY)
    expect(first.heard.messages).toEqual(['one'])
    expect(first.heard.disconnects).toBe(0)
  })

  it('does not hear a channel it did not subscribe to', async () => {
    const store = open()
    const { heard, handlers } = busRecorder()
    await store.subscribe('bus:mine', handlers)
    await store.publish('bus:other', 'not for me')
    await store.publish('bus:mine', 'for me')
    await vi.waitFor(() => expect(heard.messages).toEqual(['for me']), EVENTUALLY)
  })

  it('rejects subscribe after close', async () => {
    const store = open()
    await store.close()
    await expect(store.subscribe('bus:closed', busRecorder().handlers)).rejects.toThrow(/closed/)
  })
})

describe('the sharded bus of a cluster store', () => {
  it('subscribes on the master that owns the channel slot', async () => {
    const store = redisClusterStore({ nodes: testCluster().seeds(), bus: 'spublish' })
    try {
      const channel = 'bus:{placement}'
      await store.subscribe(channel, { onMessage: () => {} })
      const owner = await testCluster().masterForSlot(keySlot(channel))
      const bus = (await storeConnections(clusterAdmin())).filter((connection) => connection.name === 'tiercache:bus')
      expect(bus.map((connection) => connection.port)).toEqual([owner.port])
    } finally {
      await store.close()
    }
  })
})
