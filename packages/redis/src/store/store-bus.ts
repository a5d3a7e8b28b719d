import type { BusHandlers, BusSubscription } from '@tiercache/core'
import { type BusMode, PubSubBus } from '@tiercache/redis-common'
import { busFlavour } from '../bus/bus-flavour.js'
import { linkTopology } from '../bus/subscriber-link.js'
import type { RedisSubscriberTopology } from '../bus/subscriber-topology.js'
import { redactCredentials } from '../redact-credentials.js'
import type { RoutedCommands } from './routed-commands.js'

/**
 * The store's invalidation bus: publishes on the store's own connections (classic or sharded
 * pub/sub, `mode`) and subscribes on the bus' subscriber connection(s), opened on the first
 * `subscribe`.
 */
export class StoreBus {
  private readonly bus: PubSubBus

  constructor(
    private readonly commands: RoutedCommands,
    private readonly mode: BusMode,
    topology: RedisSubscriberTopology,
    watchTopology: (listener: () => void) => () => void,
  ) {
    const flavour = busFlavour(mode)
    this.bus = new PubSubBus({
      publish: (channel, message) => flavour.publish(commands.data, channel, message),
      topology: linkTopology(topology, flavour),
      sharded: flavour.sharded,
      cleanError: redactCredentials,
      watchTopology,
    })
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.bus.publish(channel, message).catch((error: unknown) => this.commands.redirected(error, this.mode, [channel, message]))
  }

  subscribe(channel: string, handlers: BusHandlers): Promise<BusSubscription> {
    return this.bus.subscribe(channel, handlers)
  }

  /** Closes the subscriber connection(s). */
  close(): void {
    this.bus.close()
  }
}
