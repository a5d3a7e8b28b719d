import { createClient, type RedisClientOptions, type RedisClientType, type RedisClusterType, type RedisSentinelType } from '@redis/client'
import { keySlot, type SubscriberTarget, type SubscriberTopology, settleWithin } from '@tiercache/redis-common'
import { NodeRedisSubscriber } from './subscriber.js'

/** How long a first subscription waits for a client that has not connected yet, in ms. */
const READY_TIMEOUT_MS = 10_000

/**
 * Options of a subscriber connection: the data connections' own (TLS, ACL user), aimed at one
 * node, never reconnecting by itself (the bus replaces a lost connection, possibly on another
 * node), with a queue for the SUBSCRIBE sent while it connects, and named for `CLIENT LIST`.
 */
function subscriberOptions(base: RedisClientOptions | undefined, host?: string, port?: number): RedisClientOptions {
  const socket = { ...(base?.socket ?? {}), ...(host === undefined ? {} : { host, port }), reconnectStrategy: false as const }
  return { ...(base ?? {}), socket: socket as RedisClientOptions['socket'], disableOfflineQueue: false, name: 'tiercache:bus' }
}

function opener(options: RedisClientOptions, sharded: boolean, watch?: (lost: () => void) => () => void): SubscriberTarget['open'] {
  return (onMessage, onLost) => new NodeRedisSubscriber(createClient(options) as RedisClientType, sharded, onMessage, onLost, watch)
}

/** A standalone Redis: every subscriber goes to the one server, with the client's options. */
export function standaloneSubscriberTopology(client: RedisClientType): SubscriberTopology {
  return {
    async locate(_channel, sharded) {
      return { key: 'main', open: opener(subscriberOptions(client.options as RedisClientOptions), sharded) }
    },
  }
}

/**
 * Redis Sentinel: subscribers go to the primary the Sentinels name now; a failover (the
 * Sentinel client's `MASTER_CHANGE`) ends them, so the bus subscribes again on the new primary.
 */
export function sentinelSubscriberTopology(
  sentinel: RedisSentinelType,
  nodeOptions: RedisClientOptions | undefined,
  whenReady: () => Promise<void>,
): SubscriberTopology {
  const watch = (lost: () => void) => {
    const onChange = (event: { type?: string }) => {
      if (event.type === 'MASTER_CHANGE') lost()
    }
    sentinel.on('topology-change', onChange)
    return () => sentinel.off('topology-change', onChange)
  }
  return {
    async locate(_channel, sharded) {
      await withTimeout(whenReady())
      const master = sentinel.getMasterNode()
      if (master === undefined) throw new Error('the Sentinels name no primary yet')
      return {
        key: `${master.host}:${master.port}`,
        open: opener(subscriberOptions(nodeOptions, master.host, master.port), sharded, watch),
      }
    },
  }
}

/**
 * A Redis Cluster. Classic pub/sub is broadcast to every node, so its subscriber may sit on any
 * node (picked at random, spreading a fleet's subscribers); a shard channel's subscriber must sit
 * on the master owning the channel's slot. Subscriber connections take the cluster's `defaults`
 * (TLS, ACL user).
 */
export function clusterSubscriberTopology(cluster: RedisClusterType, whenReady: () => Promise<void>): SubscriberTopology {
  const defaults = cluster._options.defaults as RedisClientOptions | undefined
  return {
    async locate(channel, sharded, stale) {
      await withTimeout(whenReady())
      if (stale) await rediscover(cluster)
      if (!sharded) {
        const nodes = [...cluster.masters, ...cluster.replicas]
        const node = nodes[Math.floor(Math.random() * nodes.length)]
        if (node === undefined) throw new Error('no cluster node known to subscribe on')
        return { key: 'any', open: opener(subscriberOptions(defaults, node.host, node.port), false) }
      }
      const slot = keySlot(channel)
      const master = cluster.slots[slot]?.master
      if (master === undefined) throw new Error(`no master known for slot ${slot} of shard channel "${channel}"`)
      return { key: master.address, open: opener(subscriberOptions(defaults, master.host, master.port), true) }
    },
  }
}

/** Asks a live master for the slot map again: after a failover or a slot move the cached one is stale. */
async function rediscover(cluster: RedisClusterType): Promise<void> {
  const master = cluster.masters.find((node) => node.client?.isReady === true)
  if (master?.client === undefined) return
  try {
    await cluster._slots.rediscover(master.client as never)
  } catch {
    // The next attempt asks again.
  }
}

function withTimeout(ready: Promise<void>): Promise<void> {
  return settleWithin(ready, READY_TIMEOUT_MS, `Redis was not ready within ${READY_TIMEOUT_MS} ms`)
}
