import type { BusMode } from '@tiercache/redis-common'
import type { Redis } from 'ioredis'
import type { DataClient } from '../data-client.js'

/**
 * One way of carrying bus messages over Redis pub/sub. The bus is written against this
 * interface so classic and sharded pub/sub can be swapped and measured against each other.
 */
export interface BusFlavour {
  readonly mode: BusMode
  /** True when a subscriber must sit on the shard that owns the channel's slot. */
  readonly sharded: boolean
  /** The event a subscriber connection emits for each message, as `(channel, message)`. */
  readonly messageEvent: 'message' | 'smessage'
  publish(client: DataClient, channel: string, message: string): Promise<unknown>
  subscribe(connection: Redis, channel: string): Promise<unknown>
  unsubscribe(connection: Redis, channel: string): Promise<unknown>
}

/** Classic `PUBLISH`/`SUBSCRIBE`: broadcast to every node of a cluster. */
const classic: BusFlavour = {
  mode: 'publish',
  sharded: false,
  messageEvent: 'message',
  publish: (client, channel, message) => client.publish(channel, message),
  subscribe: (connection, channel) => connection.subscribe(channel),
  unsubscribe: (connection, channel) => connection.unsubscribe(channel),
}

/** Sharded `SPUBLISH`/`SSUBSCRIBE` (Redis >= 7): kept on the shard owning the channel's slot. */
const sharded: BusFlavour = {
  mode: 'spublish',
  sharded: true,
  messageEvent: 'smessage',
  publish: (client, channel, message) => client.spublish(channel, message),
  subscribe: (connection, channel) => connection.ssubscribe(channel),
  unsubscribe: (connection, channel) => connection.sunsubscribe(channel),
}

/** The flavour implementing a {@link BusMode}. */
export function busFlavour(mode: BusMode): BusFlavour {
  return mode === 'spublish' ? sharded : classic
}
