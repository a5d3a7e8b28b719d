import { EventEmitter } from 'node:events'
import type { RedisClientType, RedisSentinelType } from '@redis/client'
import type { ClientHandle, DataCommands, MasterNode } from './client-handle.js'
import { keepConnecting } from './connect-loop.js'
import { handleCloser } from './handle-closer.js'
import { nodeOf } from './master-node.js'

/**
 * The {@link ClientHandle} of a standalone node-redis client, or of a Sentinel client (whose
 * commands go to the primary the Sentinels name, followed across failovers).
 */
export function standaloneHandle(client: RedisClientType | RedisSentinelType, sentinel: boolean): ClientHandle {
  const events = new EventEmitter()
  const closer = handleCloser(events, client)
  let connecting: Promise<void> | undefined
  // Every failure also reaches the caller of the command that hit it; without a listener,
  // node-redis would throw each connection error as an unhandled 'error' event.
  client.on('error', (error: unknown) => events.emit('failure', error))
  if (!sentinel) client.on('ready', () => events.emit('ready'))
  const primaryAddress = (): string => {
    if (sentinel) {
      const master = (client as RedisSentinelType).getMasterNode()
      return master === undefined ? 'the Sentinel primary' : `${master.host}:${master.port}`
    }
    const socket = (client as RedisClientType).options?.socket as { host?: string; port?: number } | undefined
    return `${socket?.host ?? 'localhost'}:${socket?.port ?? 6379}`
  }
  return {
    kind: sentinel ? 'sentinel' : 'standalone',
    client,
    commands: client as unknown as DataCommands,
    events,
    isReady: () => client.isReady,
    publish(sharded, channel, message) {
      const args = [sharded ? 'SPUBLISH' : 'PUBLISH', channel, message]
      // node-redis marks PUBLISH read-only, so a Sentinel client with a replica pool would send it
      // to a replica, whose subscribers are not the fleet's: name the primary.
      if (sentinel) return (client as RedisSentinelType).sendCommand<number>(false, args)
      return (client as RedisClientType).sendCommand<number>(args)
    },
    connect() {
      if (client.isReady) return Promise.resolve()
      connecting ??= keepConnecting(
        async () => {
          if (!client.isOpen) await client.connect()
          else await waitReady(client, closer.closed)
          if (sentinel) events.emit('ready')
        },
        closer.closed,
        (error) => events.emit('failure', error),
      )
      return connecting
    },
    async masters(): Promise<MasterNode[]> {
      const address = primaryAddress()
      if (!sentinel) return [nodeOf(address, client as RedisClientType)]
      const lease = client as RedisSentinelType
      return [
        nodeOf(address, {
          sendCommand: (args) => lease.sendCommand(false, args),
          scan: (cursor, options) => lease.scan(cursor, options),
          unlink: (keys) => lease.unlink(keys),
        }),
      ]
    },
    masterOfSlot: () => undefined,
    describe: () => `Redis at ${primaryAddress()}`,
    close: closer.close,
  }
}

/** Pause between two looks at a client that is open but not ready yet, in ms. */
const READY_POLL_MS = 50

/**
 * Resolves once a client that is open but still (re)connecting is ready, or the store closed. A
 * look every 50 ms rather than an event: a Sentinel client announces no 'ready' of its own.
 */
async function waitReady(client: RedisClientType | RedisSentinelType, closed: () => boolean): Promise<void> {
  while (!client.isReady && !closed()) await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS).unref())
}
