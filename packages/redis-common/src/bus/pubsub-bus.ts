import { type BusHandlers, type BusLossCause, type BusSubscription, TierCacheError } from '@tiercache/core'

/** First delay before placing lost channels again, in ms; doubles per failed attempt. */
const RECOVERY_BASE_DELAY_MS = 50
/** Cap of the recovery delay, in ms. */
const RECOVERY_MAX_DELAY_MS = 2_000

/**
 * One subscriber connection, as a client library opens it. It never reconnects by itself: when
 * it is lost (killed, node down, slot moved) it calls the `onLost` it was opened with, once, with
 * the cause, and the bus places its channels again, possibly on another node.
 */
export interface SubscriberConnection {
  /** Subscribes (`SUBSCRIBE` or `SSUBSCRIBE`, per the bus mode); resolves once the server confirmed. */
  subscribe(channel: string): Promise<unknown>
  unsubscribe(channel: string): Promise<unknown>
  /** Closes the connection without calling `onLost`: the bus asked for it. */
  close(): void
}

/**
 * Where a subscriber connection goes. `key` names the place: channels whose targets share a
 * key share one connection. `open` creates the connection, handing each message to `onMessage`.
 */
export interface SubscriberTarget {
  readonly key: string
  open(onMessage: (channel: string, message: string) => void, onLost: (cause: BusLossCause) => void): SubscriberConnection
}

/** Finds the node a bus channel's subscriber must connect to. */
export interface SubscriberTopology {
  /**
   * @param sharded the channel is a shard channel, served only by the master owning its slot.
   * @param stale the last attempt failed or a slot moved: refresh what is known first.
   */
  locate(channel: string, sharded: boolean, stale: boolean): Promise<SubscriberTarget>
}

/** What a {@link PubSubBus} runs on; each store supplies it for its client library. */
export interface PubSubBusParts {
  /** `PUBLISH` or `SPUBLISH` on the store's data connection(s). */
  publish(channel: string, message: string): Promise<unknown>
  topology: SubscriberTopology
  /** Shard channels (`SSUBSCRIBE`): a subscriber sits on the master owning the channel's slot. */
  sharded: boolean
  /** Cleans an error before the caller sees it (e.g. blanks a password a failed handshake carries). */
  cleanError?: (error: unknown) => unknown
  /**
   * Calls `listener` on every topology change the store sees (its `onTopologyChange`); returns
   * the function that stops it. With it, a shard channel follows its slot to a promoted master
   * (see {@link PubSubBus.relocate}).
   */
  watchTopology?: (listener: () => void) => () => void
}

/** One open subscriber connection and the channels it carries. */
interface SubscriberLink {
  readonly key: string
  readonly channels: Set<string>
  readonly connection: SubscriberConnection
}

/** The state of one subscribed channel, shared by every subscription to it. */
interface ChannelEntry {
  readonly handlers: Set<BusHandlers>
  /** The link carrying the channel, once placed. */
  link: SubscriberLink | undefined
  /** The server confirmed the subscription and it has not been lost since. */
  active: boolean
  /** Lost after being active: `onDisconnect` fired, `onReconnect` is owed. */
  down: boolean
  /** A placement in progress, joined by concurrent subscribers. */
  placing: Promise<void> | undefined
}

/**
 * The invalidation bus over Redis pub/sub.
 *
 * Subscriber connections are opened lazily on the first `subscribe` and shared: all channels
 * on one connection for classic pub/sub, one connection per shard in use for sharded pub/sub.
 * Several subscriptions to one channel share one server subscription. When a connection is
 * lost, its subscriptions hear `onDisconnect` once, with the cause; the bus places their channels again with
 * backoff (on any live node for classic pub/sub) and calls `onReconnect` once each is active.
 */
export class PubSubBus {
  private readonly channels = new Map<string, ChannelEntry>()
  private readonly links = new Map<string, SubscriberLink>()
  private recoveryTimer: NodeJS.Timeout | undefined
  private recoveryAttempts = 0
  private closed = false
  /** Stops the topology watch, started with the first subscription. */
  private stopWatching: (() => void) | undefined

  constructor(private readonly parts: PubSubBusParts) {}

  async publish(channel: string, message: string): Promise<void> {
    await this.parts.publish(channel, message)
  }

  async subscribe(channel: string, handlers: BusHandlers): Promise<BusSubscription> {
    if (this.closed) throw storeClosed()
    let entry = this.channels.get(channel)
    if (entry === undefined) {
      entry = { handlers: new Set(), link: undefined, active: false, down: false, placing: undefined }
      this.channels.set(channel, entry)
    }
    entry.handlers.add(handlers)
    if (this.parts.sharded) this.stopWatching ??= this.parts.watchTopology?.(() => void this.relocate())
    if (!entry.active) {
      try {
        await this.place(channel, entry, false)
      } catch (error) {
        await this.removeHandlers(channel, entry, handlers)
        // The subscriber connection's failed handshake may be the error: it carries the password.
        throw this.parts.cleanError === undefined ? error : this.parts.cleanError(error)
      }
    }
    let subscribed = true
    return {
      unsubscribe: async () => {
        if (!subscribed) return
        subscribed = false
        await this.removeHandlers(channel, entry, handlers)
      },
    }
  }

  /** Closes every subscriber connection; later losses and timers are ignored. */
  close(): void {
    this.closed = true
    this.stopWatching?.()
    clearTimeout(this.recoveryTimer)
    this.recoveryTimer = undefined
    for (const link of this.links.values()) link.connection.close()
    this.links.clear()
    this.channels.clear()
  }

  /**
   * After a topology change: a shard channel whose slot now has another master is carried by a
   * connection that no longer hears it. A failed-over master that hangs (paused, partitioned)
   * keeps the connection open and silent: nothing ends it, messages published on the promoted
   * master never reach it, and the subscription would look up while it is deaf until the old
   * master comes back. Such a link is closed as `moved`: its subscriptions hear the loss (the core
   * then distrusts what it kept), the channels are placed again on the new master, and
   * `onReconnect` follows as after any loss. Resolves once every channel was checked.
   */
  async relocate(): Promise<void> {
    if (!this.parts.sharded || this.closed) return
    for (const [channel, entry] of [...this.channels]) {
      const link = entry.link
      if (link === undefined || !entry.active) continue
      let target: SubscriberTarget
      try {
        target = await this.parts.topology.locate(channel, true, false)
      } catch {
        continue
      }
      if (this.closed || target.key === link.key || this.links.get(link.key) !== link) continue
      link.connection.close()
      this.onLinkLost(link, 'moved')
    }
  }

  /** Places a channel on a link, joining a placement already in progress. */
  private place(channel: string, entry: ChannelEntry, stale: boolean): Promise<void> {
    entry.placing ??= this.attach(channel, entry, stale).finally(() => {
      entry.placing = undefined
    })
    return entry.placing
  }

  private async attach(channel: string, entry: ChannelEntry, stale: boolean): Promise<void> {
    const target = await this.parts.topology.locate(channel, this.parts.sharded, stale)
    if (this.closed) throw storeClosed()
    let link = this.links.get(target.key)
    if (link === undefined) {
      const channels = new Set<string>()
      let opened: SubscriberLink | undefined
      const connection = target.open(this.dispatch, (cause) => {
        if (opened !== undefined) this.onLinkLost(opened, cause)
      })
      opened = { key: target.key, channels, connection }
      link = opened
      this.links.set(target.key, link)
    }
    // Recorded before the reply so that a loss during SUBSCRIBE is seen as a loss of this channel.
    entry.link = link
    link.channels.add(channel)
    try {
      await link.connection.subscribe(channel)
    } catch (error) {
      this.detach(channel, entry, link)
      throw error
    }
    if (this.channels.get(channel) !== entry) {
      // Everyone unsubscribed while the SUBSCRIBE was in flight.
      await this.release(channel, link)
      return
    }
    entry.active = true
    if (entry.down) {
      entry.down = false
      for (const handlers of entry.handlers) handlers.onReconnect?.()
    }
  }

  private detach(channel: string, entry: ChannelEntry, link: SubscriberLink): void {
    if (entry.link === link) entry.link = undefined
    link.channels.delete(channel)
    if (link.channels.size === 0 && this.links.get(link.key) === link) {
      this.links.delete(link.key)
      link.connection.close()
    }
  }

  private async removeHandlers(channel: string, entry: ChannelEntry, handlers: BusHandlers): Promise<void> {
    entry.handlers.delete(handlers)
    if (entry.handlers.size > 0 || this.channels.get(channel) !== entry) return
    this.channels.delete(channel)
    const link = entry.link
    entry.link = undefined
    entry.active = false
    if (link !== undefined && this.links.get(link.key) === link) await this.release(channel, link)
  }

  /** Drops a channel from a live link; the last channel takes the connection with it. */
  private async release(channel: string, link: SubscriberLink): Promise<void> {
    link.channels.delete(channel)
    if (link.channels.size === 0) {
      if (this.links.get(link.key) === link) this.links.delete(link.key)
      link.connection.close()
      return
    }
    await link.connection.unsubscribe(channel)
  }

  private readonly dispatch = (channel: string, message: string): void => {
    const entry = this.channels.get(channel)
    if (entry === undefined) return
    for (const handlers of entry.handlers) {
      try {
        handlers.onMessage(message)
      } catch (error) {
        // One failing handler must not starve the others; the error still surfaces as an
        // uncaught exception, as a throwing client listener would.
        process.nextTick(() => {
          throw error
        })
      }
    }
  }

  private readonly onLinkLost = (link: SubscriberLink, cause: BusLossCause): void => {
    if (this.links.get(link.key) === link) this.links.delete(link.key)
    if (this.closed) return
    for (const channel of link.channels) {
      const entry = this.channels.get(channel)
      if (entry === undefined || entry.link !== link) continue
      entry.link = undefined
      if (entry.active) {
        entry.active = false
        entry.down = true
        for (const handlers of entry.handlers) handlers.onDisconnect?.(cause)
      }
    }
    link.channels.clear()
    this.scheduleRecovery()
  }

  private scheduleRecovery(): void {
    if (this.closed || this.recoveryTimer !== undefined) return
    const exponential = Math.min(RECOVERY_BASE_DELAY_MS * 2 ** this.recoveryAttempts, RECOVERY_MAX_DELAY_MS)
    // Jitter keeps a fleet that lost the same node from reconnecting in lockstep.
    const delay = exponential / 2 + Math.random() * (exponential / 2)
    this.recoveryAttempts++
    this.recoveryTimer = setTimeout(() => {
      this.recoveryTimer = undefined
      void this.recover()
    }, delay)
  }

  private async recover(): Promise<void> {
    const lost = [...this.channels].filter(([, entry]) => !entry.active && entry.down)
    const results = await Promise.allSettled(lost.map(([channel, entry]) => this.place(channel, entry, true)))
    if (this.closed) return
    if (results.some((result) => result.status === 'rejected')) this.scheduleRecovery()
    else this.recoveryAttempts = 0
  }
}

function storeClosed(): TierCacheError {
  return new TierCacheError('CACHE_CLOSED', 'the store is closed; create a new one to subscribe again')
}
