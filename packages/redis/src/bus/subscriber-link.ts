import type { BusLossCause } from '@tiercache/core'
import type { SubscriberConnection, SubscriberTopology } from '@tiercache/redis-common'
import type { Redis } from 'ioredis'
import { absorbLateSocketErrors } from '../late-socket-errors.js'
import { redactCredentials } from '../redact-credentials.js'
import type { BusFlavour } from './bus-flavour.js'
import type { RedisSubscriberTopology } from './subscriber-topology.js'

/**
 * One ioredis subscriber connection. It never reconnects by itself: when the connection ends
 * (killed, node down, slot moved) it reports the loss once and the bus places its channels
 * again, possibly on another node.
 */
export class SubscriberLink implements SubscriberConnection {
  private readonly onEnd: () => void
  /** Why the connection is ending: a slot move ends it on purpose, anything else is a loss. */
  private cause: BusLossCause = 'connection'

  constructor(
    private readonly connection: Redis,
    private readonly flavour: BusFlavour,
    onMessage: (channel: string, message: string) => void,
    onLost: (cause: BusLossCause) => void,
  ) {
    // Connection errors are reported through the loss (and the bus callbacks), not as
    // unhandled 'error' events, which ioredis would print for every failed attempt.
    this.connection.prependListener('error', redactCredentials)
    this.connection.on(flavour.messageEvent, onMessage)
    // A shard channel's slot moved (the server sent an unsolicited SUNSUBSCRIBE): drop the
    // connection so the bus subscribes again where the slot lives now.
    this.connection.on('moved', () => {
      this.cause = 'moved'
      this.connection.disconnect()
    })
    this.onEnd = () => onLost(this.cause)
    this.connection.once('end', this.onEnd)
  }

  subscribe(channel: string): Promise<unknown> {
    return this.flavour.subscribe(this.connection, channel)
  }

  unsubscribe(channel: string): Promise<unknown> {
    return this.flavour.unsubscribe(this.connection, channel)
  }

  /** Closes the connection without reporting a loss: the bus asked for it. */
  close(): void {
    this.connection.off('end', this.onEnd)
    // A subscriber has no replies worth waiting for, so there is nothing for QUIT to flush.
    absorbLateSocketErrors(this.connection)
    this.connection.disconnect()
  }
}

/** The bus' view of an ioredis topology: each target opens a {@link SubscriberLink} of `flavour`. */
export function linkTopology(topology: RedisSubscriberTopology, flavour: BusFlavour): SubscriberTopology {
  return {
    async locate(channel, sharded, stale) {
      const target = await topology.locate(channel, sharded, stale)
      return { key: target.key, open: (onMessage, onLost) => new SubscriberLink(target.open(), flavour, onMessage, onLost) }
    },
  }
}
