import { keySlot } from '@tiercache/redis-common'
import type { Cluster, Redis, RedisOptions } from 'ioredis'
import { whenReady } from '../client-readiness.js'

/**
 * Where a subscriber connection goes. `key` names the place: channels whose targets share a
 * key share one connection. `open()` creates the (not yet connected) connection.
 */
export interface RedisSubscriberTarget {
  readonly key: string
  open(): Redis
}

/** Finds the node a bus channel's subscriber must connect to. */
export interface RedisSubscriberTopology {
  /**
   * @param sharded the channel is a shard channel, served only by the master owning its slot.
   * @param stale the last attempt failed or a slot moved: refresh what is known first.
   */
  locate(channel: string, sharded: boolean, stale: boolean): Promise<RedisSubscriberTarget>
}

/**
 * Overrides for subscriber connections. The bus replaces a lost connection itself (possibly on
 * another node), so ioredis must not reconnect or resubscribe behind its back, and must not
 * route a subscriber through auto-pipelining. `connectionName` makes it visible in `CLIENT LIST`.
 */
const SUBSCRIBER_OPTIONS: Partial<RedisOptions> = {
  lazyConnect: true,
  retryStrategy: null,
  reconnectOnError: null,
  autoResubscribe: false,
  enableOfflineQueue: true,
  enableAutoPipelining: false,
  readOnly: false,
  connectionName: 'tiercache:bus',
}

/** A standalone Redis: every subscriber goes to the one server, with the client's options. */
export function standaloneSubscriberTopology(client: Redis): RedisSubscriberTopology {
  const target: RedisSubscriberTarget = { key: 'main', open: () => client.duplicate(SUBSCRIBER_OPTIONS) }
  return { locate: async () => target }
}

/**
 * How long a first subscription waits for a cluster that has not connected yet, in ms.
 * Past it the subscribe rejects; a bus that was already up keeps retrying on its own.
 */
const CLUSTER_READY_TIMEOUT_MS = 10_000

/**
 * A Redis Cluster. Classic pub/sub is broadcast to every node, so its subscriber may sit on any
 * node (picked at random, spreading a fleet's subscribers); a shard channel's subscriber must
 * sit on the master owning the channel's slot. Subscriber connections copy the options of the
 * cluster's own node connections (TLS, ACL user, NAT-mapped address).
 */
export function clusterSubscriberTopology(cluster: Cluster): RedisSubscriberTopology {
  return {
    async locate(channel, sharded, stale) {
      if (stale && cluster.status === 'ready') await refreshSlots(cluster)
      await whenReady(cluster, CLUSTER_READY_TIMEOUT_MS)
      if (!sharded) {
        return {
          key: 'any',
          open() {
            const nodes = cluster.nodes('all')
            const node = nodes[Math.floor(Math.random() * nodes.length)]
            if (node === undefined) throw new Error('no cluster node known to subscribe on')
            return node.duplicate(SUBSCRIBER_OPTIONS)
          },
        }
      }
      const slot = keySlot(channel)
      const nodeKey = cluster.slots[slot]?.[0]
      const node = cluster.nodes('master').find((candidate) => nodeKeyOf(candidate) === nodeKey)
      if (node === undefined) throw new Error(`no master known for slot ${slot} of shard channel "${channel}"`)
      return { key: nodeKeyOf(node), open: () => node.duplicate(SUBSCRIBER_OPTIONS) }
    },
  }
}

function nodeKeyOf(node: Redis): string {
  return `${node.options.host}:${node.options.port}`
}

function refreshSlots(cluster: Cluster): Promise<void> {
  return new Promise((resolve, reject) => {
    cluster.refreshSlotsCache((error) => (error ? reject(error) : resolve()))
  })
}
