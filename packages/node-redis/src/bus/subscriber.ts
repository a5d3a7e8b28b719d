import type { RedisClientType } from '@redis/client'
import type { BusLossCause } from '@tiercache/core'
import type { SubscriberConnection } from '@tiercache/redis-common'

/**
 * One node-redis subscriber connection, created with `reconnectStrategy: false`: it never
 * reconnects or resubscribes behind the bus' back. Its first error (node down, connection
 * killed), a moved shard channel, or whatever `watch` reports ends it and calls `onLost` once;
 * the bus then places its channels again, possibly on another node.
 */
export class NodeRedisSubscriber implements SubscriberConnection {
  private readonly connecting: Promise<void>
  private readonly listener: (message: string, channel: string) => void
  private readonly unwatch: (() => void) | undefined
  private ended = false
  /** Settles when the connection ends; node-redis never settles the pub/sub commands a destroy cut short. */
  private readonly endedSignal: Promise<'ended'>
  private signalEnd: () => void = () => {}

  constructor(
    private readonly client: RedisClientType,
    private readonly sharded: boolean,
    onMessage: (channel: string, message: string) => void,
    private readonly onLost: (cause: BusLossCause) => void,
    watch?: (lost: () => void) => () => void,
  ) {
    this.endedSignal = new Promise((resolve) => {
      this.signalEnd = () => resolve('ended')
    })
    this.listener = (message, channel) => onMessage(channel, message)
    client.on('error', this.lost)
    // The server unsubscribed a shard channel whose slot moved: subscribe again where it lives now.
    client.on('sharded-channel-moved', () => this.endWith('moved'))
    this.unwatch = watch?.(this.lost)
    this.connecting = client.connect().then(() => {})
    this.connecting.catch(this.lost)
  }

  async subscribe(channel: string): Promise<unknown> {
    await this.connecting
    const reply = this.sharded ? this.client.sSubscribe(channel, this.listener) : this.client.subscribe(channel, this.listener)
    if ((await Promise.race([reply, this.endedSignal])) === 'ended') throw new Error('the subscriber connection ended')
    return undefined
  }

  /** Resolves once the server confirmed, or the connection ended (which unsubscribed everything). */
  async unsubscribe(channel: string): Promise<unknown> {
    if (this.ended) return undefined
    await this.connecting
    const reply = this.sharded ? this.client.sUnsubscribe(channel) : this.client.unsubscribe(channel)
    return Promise.race([reply, this.endedSignal])
  }

  /** Closes the connection without reporting a loss: the bus asked for it. */
  close(): void {
    this.end()
  }

  private readonly lost = (): void => this.endWith('connection')

  private endWith(cause: BusLossCause): void {
    if (this.ended) return
    this.end()
    this.onLost(cause)
  }

  private end(): void {
    if (this.ended) return
    this.ended = true
    this.signalEnd()
    this.unwatch?.()
    // A subscriber has no replies worth waiting for: nothing to flush.
    if (this.client.isOpen) this.client.destroy()
  }
}
