import type { BusSubscription } from '../l2/remote-store.js'
import type { EntityCore } from './entity-core.js'

// The message carries nothing: a waiter woken by it reads L2 (and tries the lock) as a poll would,
// so a wake that arrives late, twice, or for a load that failed is harmless.
const WAKE = ''

/**
 * The channel on which the end of the lease on `lockKey` is announced. It carries the bus
 * channel's hash tag (`{<namespace>}`), so on a sharded bus its subscriptions ride the
 * subscriber connection the bus already holds (no connection per shard), and only instances
 * waiting for this one lock receive its message (Redis filters by channel; nothing reaches the
 * rest of the fleet).
 */
export function wakeChannel(namespace: string, lockKey: string): string {
  return `{${namespace}}!wake:${lockKey}`
}

/**
 * Tells whoever waits for the lease on `lockKey` that it ended: its value landed, or the lock is
 * free (released after a failed load, or deleted by an invalidation). Best effort and never
 * awaited by a reader: a lost wake costs a waiter one poll interval (`lockPoll`). Nothing is
 * sent without the bus (`bus: false`): the fleet then polls, as it did before wakes existed.
 */
export function announceLeaseEnd(core: EntityCore, lockKey: string): void {
  const l2 = core.l2
  if (l2 === null || core.ctx.bus === null) return
  void l2.notify(wakeChannel(core.ctx.namespace, lockKey), WAKE)
}

/**
 * A waiter's ear on the wake channel of one lock: subscribes at once (in the background), and
 * {@link wait} sleeps until a wake, or until its timeout. A wake that arrives while the waiter
 * is busy reading L2 is kept for its next `wait`, so none falls between a read and a sleep.
 * Becoming active counts as a wake too: the value may have landed before the subscription did.
 */
export class LeaseWakes {
  private active = false
  private pending = false
  private stopped = false
  private subscription: BusSubscription | null = null
  private wake: (() => void) | null = null

  private constructor(core: EntityCore, lockKey: string) {
    const l2 = core.l2 as NonNullable<EntityCore['l2']>
    l2.subscribe(wakeChannel(core.ctx.namespace, lockKey), {
      onMessage: () => this.ring(),
      onDisconnect: () => {
        this.active = false
      },
      onReconnect: () => this.activate(),
    }).then(
      (subscription) => {
        if (this.stopped) void subscription.unsubscribe().catch(() => {})
        else {
          this.subscription = subscription
          this.activate()
        }
      },
      (error: unknown) => core.log.debug({ err: error, lockKey }, 'wake-up subscription failed; polling instead'),
    )
  }

  /** Listens for the end of the lease on `lockKey`, or `undefined` without the bus (then the waiter polls). */
  static listen(core: EntityCore, lockKey: string): LeaseWakes | undefined {
    return core.l2 === null || core.ctx.bus === null ? undefined : new LeaseWakes(core, lockKey)
  }

  /** Whether wakes can reach this waiter now (subscribed, and the subscription not lost since). */
  get listening(): boolean {
    return this.active
  }

  /** Resolves after `ms`, or sooner on a wake (at once when one arrived since the last `wait`). */
  wait(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false
      return Promise.resolve()
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.wake = null
        resolve()
      }
      const timer = setTimeout(done, ms)
      timer.unref()
      this.wake = done
    })
  }

  /** Stops listening (the waiter has its value, or loads itself). */
  stop(): void {
    this.stopped = true
    this.active = false
    const subscription = this.subscription
    this.subscription = null
    if (subscription !== null) void subscription.unsubscribe().catch(() => {})
  }

  private activate(): void {
    if (this.stopped) return
    this.active = true
    this.ring()
  }

  private ring(): void {
    if (this.wake !== null) this.wake()
    else this.pending = true
  }
}
