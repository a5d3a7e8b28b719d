import type { Redis } from 'ioredis'
import { absorbLateSocketErrors } from '../late-socket-errors.js'
import { redactCredentials } from '../redact-credentials.js'
import type { BusFlavour } from './bus-flavour.js'
import type { SubscriberTarget } from './subscriber-topology.js'

/**
 * One subscriber connection and the channels it carries. It never reconnects by itself: when
 * the connection ends (killed, node down, slot moved) it reports the loss once and the bus
 * places its channels again, possibly on another node.
 */
export class SubscriberLink {
  readonly key: string
  readonly channels = new Set<string>()
  readonly connection: Redis
  private readonly onEnd: () => void

  constructor(
    target: SubscriberTarget,
    flavour: BusFlavour,
    onMessage: (channel: string, message: string) => void,
    onLost: (link: SubscriberLink) => void,
  ) {
    this.key = target.key
    this.connection = target.open()
    // Connection errors are reported through the loss (and the bus callbacks), not as
    // unhandled 'error' events, which ioredis would print for every failed attempt.
    this.connection.prependListener('error', redactCredentials)
    this.connection.on(flavour.messageEvent, onMessage)
    // A shard channel's slot moved (the server sent an unsolicited SUNSUBSCRIBE): drop the
    // connection so the bus subscribes again where the slot lives now.
    this.connection.on('moved', () => this.connection.disconnect())
    this.onEnd = () => onLost(this)
    this.connection.once('end', this.onEnd)
  }

  /** Closes the connection without reporting a loss: the bus asked for it. */
  close(): void {
    this.connection.off('end', this.onEnd)
    // A subscriber has no replies worth waiting for, so there is nothing for QUIT to flush.
    absorbLateSocketErrors(this.connection)
    this.connection.disconnect()
  }
}
