import type { Clock } from '@tiercache/core'

/** Options of {@link MemoryServer}. */
export interface MemoryServerOptions {
  /**
   * Where TTLs are measured: pass the `ManualClock` the caches under test run on, and moving it
   * expires values, locks, tag stamps and tombstones with them. Default: `Date.now()`.
   */
  readonly clock?: Clock
}

interface Entry {
  readonly value: string
  /** Clock ms at which the key is gone; `Infinity` for a key without TTL. */
  readonly expiresAt: number
}

const WALL_CLOCK: Clock = { now: () => Date.now() }

/**
 * One in-memory "Redis" that several {@link MemoryStore}s share, as several service instances
 * share one Redis: a single keyspace of strings with millisecond TTLs and a pub/sub bus. It is
 * one shard (no slots); `memoryStore({ server })` makes a client of it. Keys expire lazily, when read or listed, against the injected clock, so
 * a test moves time instead of sleeping for it. Bus messages are delivered asynchronously (one
 * `setImmediate` turn after the publish), in publish order, like messages over a socket.
 */
export class MemoryServer {
  /** The clock TTLs are measured against. */
  readonly clock: Clock
  private readonly entries = new Map<string, Entry>()
  private readonly channels = new Map<string, Set<(message: string) => void>>()

  constructor(options: MemoryServerOptions = {}) {
    this.clock = options.clock ?? WALL_CLOCK
  }

  /** The live value of `key`, or `null` (expired keys are removed on the way). */
  read(key: string): string | null {
    const entry = this.entries.get(key)
    if (entry === undefined) return null
    if (entry.expiresAt <= this.clock.now()) {
      this.entries.delete(key)
      return null
    }
    return entry.value
  }

  /** Milliseconds `key` has left: `-2` when it does not exist, `-1` when it has no TTL (Redis' `PTTL`). */
  ttlOf(key: string): number {
    if (this.read(key) === null) return -2
    const expiresAt = (this.entries.get(key) as Entry).expiresAt
    return expiresAt === Number.POSITIVE_INFINITY ? -1 : expiresAt - this.clock.now()
  }

  /** Writes `key` with a TTL in milliseconds (`SET key value PX ttlMs`). */
  write(key: string, value: string, ttlMs: number): void {
    this.entries.set(key, { value, expiresAt: this.clock.now() + ttlMs })
  }

  /** Deletes `key`; true when it existed. */
  remove(key: string): boolean {
    const existed = this.read(key) !== null
    this.entries.delete(key)
    return existed
  }

  /** Every live key, in insertion order. */
  keys(): string[] {
    return [...this.entries.keys()].filter((key) => this.read(key) !== null)
  }

  /** Publishes `message` on `channel`; each listener gets it on a later turn of the event loop. */
  publish(channel: string, message: string): number {
    const listeners = [...(this.channels.get(channel) ?? [])]
    for (const listener of listeners) setImmediate(() => listener(message))
    return listeners.length
  }

  /** Adds a listener of `channel`; the returned function removes it. */
  listen(channel: string, listener: (message: string) => void): () => void {
    let listeners = this.channels.get(channel)
    if (listeners === undefined) {
      listeners = new Set()
      this.channels.set(channel, listeners)
    }
    // A wrapper per call, so one function subscribed twice is two subscriptions, as in Redis clients.
    const own = (message: string): void => listener(message)
    listeners.add(own)
    return () => {
      listeners.delete(own)
      if (listeners.size === 0) this.channels.delete(channel)
    }
  }

  /** Empties the keyspace (`FLUSHALL`); subscriptions stay. */
  flush(): void {
    this.entries.clear()
  }
}
