import { randomUUID } from 'node:crypto'
import type { RemoteStore } from '@tiercache/core'
import { describe, expect, it, vi } from 'vitest'
import { EVENTUALLY } from './loaded-machine.js'
import { testCluster } from './test-context.js'

// The bus test every Redis cluster store runs on the test cluster with sharded pub/sub: the
// ioredis and the node-redis store share it.

/** A cluster store with sharded pub/sub that reports topology changes. */
export type ShardBusStore = RemoteStore & Required<Pick<RemoteStore, 'onTopologyChange'>>

/** Resolves with what `call` gave, or rejects after `ms`: a command sent to a hung node never settles. */
function within<T>(ms: number, call: Promise<T>): Promise<T> {
  return Promise.race([call, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms))])
}

/**
 * A failed-over master that hangs keeps its subscriber connections open and silent: the store
 * must move a shard channel to the promoted master when it sees the failover, and say the
 * subscription was lost (so the core drops what may have missed a message), without waiting for
 * the old master to come back. `open` makes a cluster store with `bus: 'spublish'`; the caller
 * closes the stores after each test (e.g. through `openedStores`).
 */
export function describeShardChannelFailover(name: string, open: () => ShardBusStore): void {
  describe(name, () => {
    it('moves a shard channel off a hung master once the store sees its failover, reporting the loss', async () => {
      const cluster = testCluster()
      // A failover needs the master's replica: an earlier test of the file may have left one
      // still rejoining (a killed master restarts as a replica), so the cluster is made whole and
      // the channel's master seen to have a replica in sync first.
      await cluster.ensureHealthy()
      const subscriber = open()
      const publisher = open()
      // The publisher follows the topology too, so its SPUBLISH reaches the promoted master.
      const stopPublisherWatch = publisher.onTopologyChange(() => {})
      const channel = `{bus-failover-${randomUUID().slice(0, 8)}}!bus`
      const events: string[] = []
      await subscriber.subscribe(channel, {
        onMessage: (message) => events.push(`message ${message}`),
        onDisconnect: (cause) => events.push(`disconnect ${cause}`),
        onReconnect: () => events.push('reconnect'),
      })
      await publisher.publish(channel, 'before')
      await vi.waitFor(() => expect(events).toEqual(['message before']), EVENTUALLY)
      const master = await cluster.masterForKey(channel)
      expect(await cluster.command(master.port, ['WAIT', 1, 10_000])).toBe(1)
      await cluster.pause(master.port)
      try {
        await cluster.waitForFailover(master.port, { timeoutMs: 30_000 })
        // The old master stays paused: nothing but the store's topology watch can end the link.
        await vi.waitFor(() => expect(events).toEqual(['message before', 'disconnect moved', 'reconnect']), EVENTUALLY)
        await vi.waitFor(async () => {
          await within(1_000, publisher.publish(channel, 'after'))
          expect(events).toContain('message after')
        }, EVENTUALLY)
      } finally {
        stopPublisherWatch()
        await cluster.resume(master.port)
        await cluster.ensureHealthy()
      }
    }, 120_000)
  })
}
