import type { BusHandlers, BusSubscription, ReadyCheck, RemoteStore } from '@tiercache/core'
import { TierCacheError } from '@tiercache/core'
import { MemoryServer, type MemoryServerOptions } from './memory-server.js'

/** Options of {@link memoryStore}. */
export interface MemoryStoreOptions extends MemoryServerOptions {
  /**
   * The server this store is a client of. Stores on one server share keys and the bus, as
   * instances on one Redis do. Default: a new server of its own (on `clock`).
   */
  readonly server?: MemoryServer
  /** The store's name in logs and metrics. Default `memory`. */
  readonly name?: string
}

/** What an invalidated hot-key replica holds until its tombstone expires; never an envelope. */
const TOMBSTONE = 'tc-memory-tombstone'

/**
 * A real {@link RemoteStore} held in memory: the whole contract (values with TTL, locks, leases,
 * tag stamps, hot-key replicas and tombstones, prefix deletes, the bus, `ready`) on one
 * {@link MemoryServer}, with the same atomic steps as the Redis scripts, for engine tests that
 * run in milliseconds. One shard: `spreadKeys` returns `[]`. Every call settles on a later
 * microtask, never synchronously, as a network call would. After `close`, calls reject with
 * `L2_UNAVAILABLE`.
 */
export class MemoryStore implements RemoteStore {
  readonly name: string
  /** The server this store is a client of (tests read keys and TTLs through it). */
  readonly server: MemoryServer
  private readonly unsubscribes = new Set<() => void>()
  private closed = false

  constructor(options: MemoryStoreOptions = {}) {
    this.server = options.server ?? new MemoryServer(options)
    this.name = options.name ?? 'memory'
  }

  async get(key: string): Promise<string | null> {
    this.assertOpen()
    return this.server.read(key)
  }

  async getMany(keys: readonly string[]): Promise<(string | null)[]> {
    this.assertOpen()
    return keys.map((key) => this.server.read(key))
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.assertOpen()
    this.server.write(key, value, ttlMs)
  }

  async delete(keys: readonly string[]): Promise<void> {
    this.assertOpen()
    for (const key of keys) this.server.remove(key)
  }

  async acquireLock(lockKey: string, token: string, ttlMs: number): Promise<boolean> {
    this.assertOpen()
    const holder = this.server.read(lockKey)
    if (holder !== null) return holder === token
    this.server.write(lockKey, token, ttlMs)
    return true
  }

  async setIfLeaseHeld(key: string, lockKey: string, token: string, value: string, ttlMs: number): Promise<boolean> {
    this.assertOpen()
    if (this.server.read(lockKey) !== token) return false
    this.server.write(key, value, ttlMs)
    this.server.remove(lockKey)
    return true
  }

  async releaseLock(lockKey: string, token: string): Promise<void> {
    this.assertOpen()
    if (this.server.read(lockKey) === token) this.server.remove(lockKey)
  }

  async getTagStamps(tagKeys: readonly string[]): Promise<number[]> {
    this.assertOpen()
    return tagKeys.map((key) => Number(this.server.read(key) ?? 0) || 0)
  }

  /** Raises each stamp, never lowers it, and never shortens its life (the Redis store's `STAMP_TAG` script). */
  async stampTags(tagKeys: readonly string[], stampMs: number, ttlMs: number): Promise<void> {
    this.assertOpen()
    for (const key of tagKeys) {
      const current = Number(this.server.read(key) ?? Number.NaN)
      const left = this.server.ttlOf(key)
      const raised = Number.isNaN(current) || current < stampMs
      if (left === -1) {
        if (raised) this.server.write(key, String(stampMs), Number.POSITIVE_INFINITY)
        continue
      }
      const lifeMs = Math.max(ttlMs, left)
      this.server.write(key, raised ? String(stampMs) : String(current), lifeMs)
    }
  }

  /** One shard: replicas would not spread anything. */
  spreadKeys(_makeKey: (n: number) => string, _count: number): string[] {
    return []
  }

  async setReplica(key: string, value: string, ttlMs: number): Promise<boolean> {
    this.assertOpen()
    if (this.server.read(key) === TOMBSTONE) return false
    this.server.write(key, value, ttlMs)
    return true
  }

  async tombstone(keys: readonly string[], ttlMs: number): Promise<void> {
    this.assertOpen()
    for (const key of keys) this.server.write(key, TOMBSTONE, ttlMs)
  }

  async publish(channel: string, message: string): Promise<void> {
    this.assertOpen()
    this.server.publish(channel, message)
  }

  async subscribe(channel: string, handlers: BusHandlers): Promise<BusSubscription> {
    this.assertOpen()
    const unlisten = this.server.listen(channel, (message) => handlers.onMessage(message))
    this.unsubscribes.add(unlisten)
    return {
      unsubscribe: async () => {
        unlisten()
        this.unsubscribes.delete(unlisten)
      },
    }
  }

  async deleteByPrefix(prefixes: readonly string[]): Promise<number> {
    this.assertOpen()
    let deleted = 0
    for (const key of this.server.keys()) {
      if (prefixes.some((prefix) => key.startsWith(prefix)) && this.server.remove(key)) deleted++
    }
    return deleted
  }

  /**
   * Always reachable: resolves at once, after running every keyed command on `probeKey` and
   * subscribing to `channel` when asked (as the Redis store's check does); rejects with
   * `L2_UNAVAILABLE` once the store is closed.
   */
  async ready(check: ReadyCheck = {}): Promise<void> {
    this.assertOpen()
    const key = check.probeKey
    if (key !== undefined) {
      await this.acquireLock(key, 'probe', 1_000)
      await this.setIfLeaseHeld(key, key, 'probe', 'probe', 1_000)
      await this.setReplica(key, 'probe', 1_000)
      await this.getMany([key])
      await this.stampTags([key], 0, 1_000)
      await this.tombstone([key], 1_000)
      await this.delete([key])
    }
    if (check.channel !== undefined) await (await this.subscribe(check.channel, { onMessage: () => {} })).unsubscribe()
  }

  async close(): Promise<void> {
    this.closed = true
    for (const unlisten of this.unsubscribes) unlisten()
    this.unsubscribes.clear()
  }

  private assertOpen(): void {
    if (this.closed) throw new TierCacheError('L2_UNAVAILABLE', `the ${this.name} store was closed; create a new one`)
  }
}

/**
 * A {@link MemoryStore}: on `options.server` to share keys and the bus with other stores, else on
 * a server of its own.
 *
 * @example
 * const server = new MemoryServer({ clock })
 * const [a, b] = [memoryStore({ server }), memoryStore({ server })]
 */
export function memoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  return new MemoryStore(options)
}
