import { busRecorder, testCluster } from '@tiercache/testkit'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { keySlot, type RedisRemoteStore, redisClusterStore } from '../src/index.js'
import { clusterAdmin, storeConnections } from './admin.js'

// A killed master is failed over after about the node timeout (1 s) plus an election.
const RECOVERY = { timeout: 20_000, interval: 50 }

async function subscriberPorts(): Promise<number[]> {
  return (await storeConnections(clusterAdmin())).filter((connection) => connection.name === 'tiercache:bus').map((c) => c.port)
}

/** Publishes until the message is heard: right after a failover a publish may still fail or go astray. */
async function publishUntilHeard(store: RedisRemoteStore, channel: string, heard: { messages: string[] }): Promise<void> {
  await vi.waitFor(async () => {
    await store.publish(channel, 'after').catch(() => {})
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(heard.messages).toContain('after')
  }, RECOVERY)
}

describe('the bus of a cluster store when a node dies', () => {
  const stores: RedisRemoteStore[] = []
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()))
    await testCluster().ensureHealthy()
  })

  it('moves a classic subscriber to a live node when its node is killed', async () => {
    const cluster = testCluster()
    const store = redisClusterStore({ nodes: cluster.seeds() })
    stores.push(store)
    const { heard, handlers } = busRecorder()
    await store.subscribe('failover:classic', handlers)
    const [port] = await subscriberPorts()
    if (port === undefined) throw new Error('no subscriber connection found')
    const wasMaster = (await cluster.masters()).some((master) => master.port === port)

    await cluster.kill(port)
    await vi.waitFor(() => expect(heard.reconnects).toBe(1), RECOVERY)
    expect(heard.disconnects).toBe(1)
    const [newPort] = await subscriberPorts()
    expect(newPort).not.toBe(port)

    if (wasMaster) await cluster.waitForFailover(port)
    await publishUntilHeard(store, 'failover:classic', heard)
    expect(heard).toMatchObject({ disconnects: 1, reconnects: 1 })
  })

  it('follows a shard channel to the replica promoted after its master is killed', async () => {
    const cluster = testCluster()
    const store = redisClusterStore({ nodes: cluster.seeds(), bus: 'spublish' })
    stores.push(store)
    const channel = 'failover:{sharded}'
    const { heard, handlers } = busRecorder()
    await store.subscribe(channel, handlers)
    const owner = await cluster.masterForSlot(keySlot(channel))
    expect(await subscriberPorts()).toEqual([owner.port])

    await cluster.kill(owner.port)
    await vi.waitFor(() => expect(heard.disconnects).toBe(1), RECOVERY)
    const promoted = await cluster.waitForFailover(owner.port)
    await vi.waitFor(() => expect(heard.reconnects).toBe(1), RECOVERY)
    expect(await subscriberPorts()).toEqual([promoted.port])

    await publishUntilHeard(store, channel, heard)
    expect(heard).toMatchObject({ disconnects: 1, reconnects: 1 })
  })
})
