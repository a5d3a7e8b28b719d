import { EventEmitter } from 'node:events'
import type { RedisClientType, RedisClusterType } from '@redis/client'
import type { ClientHandle, DataCommands, MasterNode } from './client-handle.js'
import { keepConnecting } from './connect-loop.js'
import { handleCloser } from './handle-closer.js'
import { nodeOf } from './master-node.js'

/**
 * The {@link ClientHandle} of a node-redis cluster client. node-redis connects to every master
 * when the cluster connects (and to replicas with `useReplicas`), follows `MOVED`/`ASK`, and
 * rediscovers the slot map when a node fails.
 */
export function clusterHandle(cluster: RedisClusterType): ClientHandle {
  const events = new EventEmitter()
  const closer = handleCloser(events, cluster)
  let ready = cluster.isOpen
  let connecting: Promise<void> | undefined
  // node-redis reports node failures as 'node-error'; both reach the caller of the failed command.
  cluster.on('error', (error: unknown) => events.emit('failure', error))
  cluster.on('node-error', (error: unknown, node?: { host?: string; port?: number }) =>
    events.emit('failure', error, node?.host === undefined ? undefined : `${node.host}:${node.port}`),
  )
  cluster.on('disconnect', () => {
    ready = false
  })
  return {
    kind: 'cluster',
    client: cluster,
    commands: cluster as unknown as DataCommands,
    events,
    isReady: () => ready,
    // Named by the channel and sent to the master: node-redis marks (S)PUBLISH read-only, and with
    // `useReplicas` it would send them to any node of the slot.
    publish: (sharded, channel, message) =>
      cluster.sendCommand<number>(sharded ? channel : undefined, false, [sharded ? 'SPUBLISH' : 'PUBLISH', channel, message]),
    connect() {
      if (ready) return Promise.resolve()
      connecting ??= keepConnecting(
        async () => {
          if (!cluster.isOpen) await cluster.connect()
          ready = true
          events.emit('ready')
        },
        closer.closed,
        (error) => events.emit('failure', error),
      ).finally(() => {
        connecting = undefined
      })
      return connecting
    },
    async masters(): Promise<MasterNode[]> {
      return Promise.all(
        cluster.masters.map(async (master) => {
          const client = (await cluster.nodeClient(master)) as RedisClientType
          return nodeOf(`${master.host}:${master.port}`, client)
        }),
      )
    },
    masterOfSlot(slot) {
      if (!ready) return undefined
      return cluster.slots[slot]?.master.address
    },
    describe: () => 'the Redis cluster',
    close: closer.close,
  }
}
