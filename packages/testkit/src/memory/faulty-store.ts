import type { BusHandlers, BusLossCause, BusSubscription, ReadyCheck, RemoteStore } from '@tiercache/core'

/** The asynchronous methods of a {@link RemoteStore} a fault can be put on. */
export type StoreMethod =
  | 'get'
  | 'getHot'
  | 'getMany'
  | 'set'
  | 'delete'
  | 'acquireLock'
  | 'setIfLeaseHeld'
  | 'releaseLock'
  | 'getTagStamps'
  | 'stampTags'
  | 'setReplica'
  | 'tombstone'
  | 'publish'
  | 'subscribe'
  | 'deleteByPrefix'
  | 'ready'

/** Every {@link StoreMethod}: what a fault applies to when no methods are named. */
export const STORE_METHODS: readonly StoreMethod[] = [
  'get',
  'getHot',
  'getMany',
  'set',
  'delete',
  'acquireLock',
  'setIfLeaseHeld',
  'releaseLock',
  'getTagStamps',
  'stampTags',
  'setReplica',
  'tombstone',
  'publish',
  'subscribe',
  'deleteByPrefix',
  'ready',
]

type Fault = { readonly kind: 'fail'; readonly error: (method: StoreMethod) => Error } | { readonly kind: 'hang' }

/**
 * The switches of a {@link FaultyStore}, flipped by the test while the code under test runs.
 * Methods default to all of {@link STORE_METHODS}. A failure or a hang replaces a method's
 * earlier failure or hang; latency adds to either.
 */
export class StoreFaults {
  private readonly faults = new Map<StoreMethod, Fault>()
  private readonly latency = new Map<StoreMethod, number>()
  private readonly counts = new Map<StoreMethod, number>()
  private readonly subscriptions = new Set<FaultySubscription>()
  private busDropped = false
  private lost = 0
  private hung = 0

  /** Calls to these methods wait `ms` milliseconds (real time) before they reach the store. */
  delay(ms: number, methods: readonly StoreMethod[] = STORE_METHODS): this {
    for (const method of methods) this.latency.set(method, ms)
    return this
  }

  /** Calls to these methods reject (with `error(method)`, default `Error('injected fault: <method>')`) without reaching the store. */
  fail(methods: readonly StoreMethod[] = STORE_METHODS, error: (method: StoreMethod) => Error = injected): this {
    for (const method of methods) this.faults.set(method, { kind: 'fail', error })
    return this
  }

  /** Calls to these methods never settle and never reach the store (a connection that went silent). */
  hang(methods: readonly StoreMethod[] = STORE_METHODS): this {
    for (const method of methods) this.faults.set(method, { kind: 'hang' })
    return this
  }

  /** Removes latency, failures and hangs from these methods; calls already hanging stay hung. The bus is left as it is. */
  heal(methods: readonly StoreMethod[] = STORE_METHODS): this {
    for (const method of methods) {
      this.faults.delete(method)
      this.latency.delete(method)
    }
    return this
  }

  /**
   * Drops the bus: every live subscription of this store is told `onDisconnect` (on a later
   * turn of the event loop, as a socket error would be), and messages that arrive until
   * {@link restoreBus} are lost. `cause` is what the subscriptions are told: `moved` plays a
   * shard channel whose slot moved to another master.
   */
  dropBus(cause: BusLossCause = 'connection'): this {
    if (this.busDropped) return this
    this.busDropped = true
    for (const subscription of this.subscriptions) setImmediate(() => subscription.handlers.onDisconnect?.(cause))
    return this
  }

  /** Brings the bus back: every live subscription is told `onReconnect`; messages flow again. */
  restoreBus(): this {
    if (!this.busDropped) return this
    this.busDropped = false
    for (const subscription of this.subscriptions) setImmediate(() => subscription.handlers.onReconnect?.())
    return this
  }

  /** How many calls of `method` the code under test made (failed and hung ones included). */
  calls(method: StoreMethod): number {
    return this.counts.get(method) ?? 0
  }

  /** Bus messages lost while the bus was dropped. */
  get lostMessages(): number {
    return this.lost
  }

  /** Calls that are hanging now (they never settle). */
  get hanging(): number {
    return this.hung
  }

  /** Runs `call` under the faults of `method`. */
  async run<T>(method: StoreMethod, call: () => Promise<T>): Promise<T> {
    this.counts.set(method, this.calls(method) + 1)
    const ms = this.latency.get(method) ?? 0
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms))
    const fault = this.faults.get(method)
    if (fault?.kind === 'fail') throw fault.error(method)
    if (fault?.kind === 'hang') {
      this.hung++
      return new Promise<T>(() => {})
    }
    return call()
  }

  /** Wraps `handlers` so the bus switches apply to them; `forget` when the subscription ends. */
  track(handlers: BusHandlers): FaultySubscription {
    const subscription: FaultySubscription = {
      handlers,
      onMessage: (message) => {
        if (this.busDropped) this.lost++
        else handlers.onMessage(message)
      },
    }
    this.subscriptions.add(subscription)
    return subscription
  }

  /** Stops applying the bus switches to a subscription that ended. */
  forget(subscription: FaultySubscription): void {
    this.subscriptions.delete(subscription)
  }
}

/** One subscription as the fault switches see it. */
export interface FaultySubscription {
  readonly handlers: BusHandlers
  readonly onMessage: (message: string) => void
}

function injected(method: StoreMethod): Error {
  return new Error(`injected fault: ${method}`)
}

/** A {@link RemoteStore} with switches for faults (see {@link faultyStore}). */
export interface FaultyStore extends RemoteStore {
  /** The switches; flip them at any time. */
  readonly faults: StoreFaults
  /** The store underneath, reached without faults (to look at or arrange its state). */
  readonly inner: RemoteStore
}

/**
 * Wraps any {@link RemoteStore} in fault switches the test flips at run time: added latency,
 * errors and hangs per method, and a dropped bus (disconnect and reconnect events, lost
 * messages). With no switch on it passes every call through unchanged; `spreadKeys` and
 * `close` are never faulted.
 *
 * @example
 * const store = faultyStore(memoryStore({ server }))
 * store.faults.fail(['get', 'getMany'])   // L2 reads fail from now on
 * store.faults.heal()                     // and work again
 */
export function faultyStore(inner: RemoteStore): FaultyStore {
  const faults = new StoreFaults()
  const store: FaultyStore = {
    name: inner.name,
    faults,
    inner,
    get: (key) => faults.run('get', () => inner.get(key)),
    getMany: (keys) => faults.run('getMany', () => inner.getMany(keys)),
    set: (key, value, ttlMs) => faults.run('set', () => inner.set(key, value, ttlMs)),
    delete: (keys) => faults.run('delete', () => inner.delete(keys)),
    acquireLock: (lockKey, token, ttlMs) => faults.run('acquireLock', () => inner.acquireLock(lockKey, token, ttlMs)),
    setIfLeaseHeld: (key, lockKey, token, value, ttlMs) =>
      faults.run('setIfLeaseHeld', () => inner.setIfLeaseHeld(key, lockKey, token, value, ttlMs)),
    releaseLock: (lockKey, token) => faults.run('releaseLock', () => inner.releaseLock(lockKey, token)),
    getTagStamps: (tagKeys) => faults.run('getTagStamps', () => inner.getTagStamps(tagKeys)),
    stampTags: (tagKeys, stampMs, ttlMs) => faults.run('stampTags', () => inner.stampTags(tagKeys, stampMs, ttlMs)),
    spreadKeys: (makeKey, count) => inner.spreadKeys(makeKey, count),
    setReplica: (key, value, ttlMs) => faults.run('setReplica', () => inner.setReplica(key, value, ttlMs)),
    tombstone: (keys, ttlMs) => faults.run('tombstone', () => inner.tombstone(keys, ttlMs)),
    publish: (channel, message) => faults.run('publish', () => inner.publish(channel, message)),
    subscribe: (channel, handlers) => faults.run('subscribe', () => subscribeThrough(inner, faults, channel, handlers)),
    close: () => inner.close(),
  }
  // Optional methods stay absent when the store underneath has none, so the engine sees the same shape.
  const { getHot, deleteByPrefix, ready } = inner
  if (getHot !== undefined) store.getHot = (key) => faults.run('getHot', () => getHot.call(inner, key))
  if (deleteByPrefix !== undefined) {
    store.deleteByPrefix = (prefixes) => faults.run('deleteByPrefix', () => deleteByPrefix.call(inner, prefixes))
  }
  if (ready !== undefined) store.ready = (check?: ReadyCheck) => faults.run('ready', () => ready.call(inner, check))
  return store
}

async function subscribeThrough(inner: RemoteStore, faults: StoreFaults, channel: string, handlers: BusHandlers): Promise<BusSubscription> {
  const tracked = faults.track(handlers)
  let subscription: BusSubscription
  try {
    subscription = await inner.subscribe(channel, {
      onMessage: tracked.onMessage,
      onDisconnect: (cause) => handlers.onDisconnect?.(cause),
      onReconnect: () => handlers.onReconnect?.(),
    })
  } catch (error) {
    faults.forget(tracked)
    throw error
  }
  return {
    unsubscribe: async () => {
      faults.forget(tracked)
      await subscription.unsubscribe()
    },
  }
}
