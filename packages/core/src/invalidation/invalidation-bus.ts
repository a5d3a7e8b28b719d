import type { BusLossCause, BusSubscription, RemoteStore } from '../l2/remote-store.js'
import type { Logger } from '../util/logger.js'
import { type BusMessage, decodeBusMessage, encodeBusMessage } from './bus-message.js'

/** What the bus tells the cache. */
export interface BusListener {
  onKeys(entity: string, ids: readonly string[]): void
  onTags(tags: readonly string[], stamp: number): void
  /** Another instance cleared the namespace (`cache.clear()`). */
  onClear(): void
  /** The subscription was lost and is back: messages may have been missed meanwhile. */
  onMissedMessages(): void
}

// A subscription that cannot be made (L2 down at start) is retried this often.
const SUBSCRIBE_RETRY_MS = 1_000

/**
 * The invalidation bus of one cache instance over the store's pub/sub: publishes this
 * instance's invalidations and applies everyone else's. While it is down, L1 TTL is the bound
 * on staleness; when it comes back, the listener drops what may have missed a message.
 */
export class InvalidationBus {
  private subscription: BusSubscription | null = null
  private retryTimer: NodeJS.Timeout | null = null
  private closed = false
  private readonly readyPromise: Promise<void>
  private markReady!: () => void
  private connected = false
  /** Why the subscription was last lost; picks the log level of the reconnection. */
  private lossCause: BusLossCause = 'connection'

  constructor(
    private readonly store: RemoteStore,
    readonly channel: string,
    readonly instanceId: string,
    private readonly log: Logger,
    private readonly listener: BusListener,
  ) {
    this.readyPromise = new Promise((resolve) => {
      this.markReady = resolve
    })
  }

  /** Resolves once the first subscription is active. */
  ready(): Promise<void> {
    return this.readyPromise
  }

  /** True while the subscription is active. */
  isConnected(): boolean {
    return this.connected
  }

  /** Subscribes in the background, retrying until it succeeds or the bus is closed. */
  start(): void {
    this.store
      .subscribe(this.channel, {
        onMessage: (text) => this.receive(text),
        onDisconnect: (cause) => {
          this.connected = false
          this.lossCause = cause
          // A slot move is routine (resharding), not a fault: the subscription follows the slot.
          if (cause === 'moved')
            this.log.info({ channel: this.channel }, "invalidation bus channel's slot moved; subscribing again on its new shard")
          else this.log.warn({ channel: this.channel }, 'invalidation bus disconnected; L1 TTL bounds staleness until it is back')
        },
        onReconnect: () => {
          this.connected = true
          const message = 'invalidation bus reconnected; dropping L1 entries that may have missed invalidations'
          if (this.lossCause === 'moved') this.log.info({ channel: this.channel }, message)
          else this.log.warn({ channel: this.channel }, message)
          this.listener.onMissedMessages()
        },
      })
      .then(
        (subscription) => {
          if (this.closed) {
            void subscription.unsubscribe().catch(() => {})
            return
          }
          this.subscription = subscription
          this.connected = true
          this.markReady()
        },
        (error: unknown) => {
          if (this.closed) return
          this.log.warn({ err: error, channel: this.channel }, 'invalidation bus could not subscribe; retrying')
          this.retryTimer = setTimeout(() => {
            this.retryTimer = null
            // Anything published before the subscription exists was missed.
            this.listener.onMissedMessages()
            this.start()
          }, SUBSCRIBE_RETRY_MS)
          this.retryTimer.unref()
        },
      )
  }

  /** Publishes that these ids of `entity` changed. */
  publishKeys(entity: string, ids: readonly string[]): Promise<void> {
    return this.store.publish(this.channel, encodeBusMessage({ s: this.instanceId, e: entity, k: ids }))
  }

  /** Publishes that entries with these tags created at or before `stamp` are invalid. */
  publishTags(tags: readonly string[], stamp: number): Promise<void> {
    return this.store.publish(this.channel, encodeBusMessage({ s: this.instanceId, t: tags, at: stamp }))
  }

  /** Publishes that the namespace was cleared. */
  publishClear(): Promise<void> {
    return this.store.publish(this.channel, encodeBusMessage({ s: this.instanceId, clear: true }))
  }

  async close(): Promise<void> {
    this.closed = true
    if (this.retryTimer !== null) clearTimeout(this.retryTimer)
    const subscription = this.subscription
    this.subscription = null
    this.connected = false
    if (subscription !== null) await subscription.unsubscribe().catch(() => {})
  }

  private receive(text: string): void {
    const message: BusMessage | undefined = decodeBusMessage(text)
    if (message === undefined) {
      this.log.debug({ channel: this.channel }, 'ignored a malformed bus message')
      return
    }
    if (message.s === this.instanceId) return
    if ('e' in message) this.listener.onKeys(message.e, message.k)
    else if ('t' in message) this.listener.onTags(message.t, message.at)
    else this.listener.onClear()
  }
}
