import { type BusHandlers, type BusSubscription, type Logger, type ReadyCheck, type RemoteStore, silentLogger } from '@tiercache/core'
import {
  type BusMode,
  DEFAULT_REPLICA_ACK_TIMEOUT_MS,
  type Finding,
  foreignType,
  mgetBySlot,
  parseStamp,
  probeChannel,
  probeKeyedCommands,
  runStartupCheck,
  StoreLifecycle,
} from '@tiercache/redis-common'
import type { Cluster, Redis } from 'ioredis'
import type { RedisSubscriberTopology } from './bus/subscriber-topology.js'
import { firstConnectSettled } from './client-readiness.js'
import { checkUntilReached, checkWhenReady } from './deployment/check-when-ready.js'
import { unlinkByPrefix } from './prefix-unlink.js'
import { primaryReads, type ReadRouting } from './read-routing.js'
import type { DeleteOutcome, TopologyChange } from './shards/cluster-shards.js'
import { StoreShards } from './shards/store-shards.js'
import { startupClient } from './startup-client.js'
import { setReplica, spreadKeys, tombstone } from './store/hot-replicas.js'
import { acquireLock, releaseLock, setIfLeaseHeld } from './store/leases.js'
import { quietErrors, quitClient } from './store/owned-client.js'
import { RoutedCommands } from './store/routed-commands.js'
import { StoreBus } from './store/store-bus.js'
import { stampTags } from './store/tag-stamps.js'

/** What a {@link RedisRemoteStore} is built from; the factories assemble it. */
export interface RedisRemoteStoreParts {
  name: string
  client: Redis | Cluster
  /** The store created the client, so `close()` quits it. */
  ownsClient: boolean
  /** Multi-key commands must be split by hash slot. */
  cluster: boolean
  bus: BusMode
  topology: RedisSubscriberTopology
  /** Where `GET`/`MGET` go (`readFrom`); default: the client, i.e. the primary. */
  reads?: ReadRouting | undefined
  /** Where the deployment check's warnings go; default: silent. */
  logger?: Logger | undefined
  /** Run the deployment check once the client is first ready. Default `true`. */
  deploymentCheck?: boolean
  /** The seed nodes or Sentinels the client was given (`host:port`); `undefined` for a passed-in client. */
  seeds?: readonly string[] | undefined
  /** How long a durable delete waits for a replica (ms); 0: no waiting. Default 50. */
  replicaAckTimeoutMs?: number
}

/**
 * `RemoteStore` on ioredis, for a Redis Cluster or a standalone Redis. Create one with
 * `redisClusterStore` or `redisStore`.
 *
 * All reads, writes, locks, leases and tag stamps share the client's connections (one per
 * node in use for a cluster, one for a standalone server); the bus adds its subscriber
 * connection(s) on the first `subscribe`. Errors from Redis reject the returned promises as
 * they are: deciding what a failure means is the core's job.
 */
export class RedisRemoteStore implements RemoteStore {
  /** `redis-cluster` or `redis`. */
  readonly name: string
  /** The ioredis client, e.g. to listen to its `error` events or read its `status`. */
  readonly client: Redis | Cluster
  private readonly commands: RoutedCommands
  private readonly cluster: boolean
  private readonly ownsClient: boolean
  private readonly bus: StoreBus
  private readonly reads: ReadRouting
  private readonly log: Logger
  private readonly seeds: readonly string[] | undefined
  /** Commands wait for the client's first connection attempt (see `firstConnectSettled`); `close()` runs once. */
  private readonly lifecycle: StoreLifecycle
  private readonly shards: StoreShards

  constructor(parts: RedisRemoteStoreParts) {
    this.name = parts.name
    this.client = parts.client
    this.cluster = parts.cluster
    this.ownsClient = parts.ownsClient
    this.commands = new RoutedCommands(parts.client, parts.cluster)
    // A shard channel follows its slot to a promoted master (PubSubBus.relocate).
    this.bus = new StoreBus(this.commands, parts.bus, parts.topology, (listener) => this.shards.onTopologyChange(listener))
    this.reads = parts.reads ?? primaryReads(parts.client)
    this.log = (parts.logger ?? silentLogger).child({ component: 'redis-store', store: parts.name })
    this.seeds = parts.seeds
    this.shards = new StoreShards(parts.client, parts.cluster, parts.replicaAckTimeoutMs ?? DEFAULT_REPLICA_ACK_TIMEOUT_MS)
    this.lifecycle = new StoreLifecycle(firstConnectSettled(parts.client))
    // A Redis that cannot be reached now is checked once it is.
    if (parts.deploymentCheck !== false)
      checkUntilReached(
        parts.client,
        () => this.deploymentCheck(),
        () => this.lifecycle.closed,
      )
    quietErrors(parts.client, parts.ownsClient)
  }

  // Not async: this is the L2 hit path, and an async wrapper with an await costs a promise and
  // microtask turns per read.
  get(key: string): Promise<string | null> {
    const startup = this.lifecycle.startup
    if (startup !== undefined) return startup.then(() => this.get(key))
    return this.reads
      .get(key)
      .catch((error: unknown) => this.commands.redirected<string | null>(error, 'get', [key]))
      .catch(foreignType)
  }

  async getMany(keys: readonly string[]): Promise<(string | null)[]> {
    if (keys.length === 0) return []
    if (this.lifecycle.startup !== undefined) await this.lifecycle.startup
    if (!this.cluster) return this.reads.mget(keys as string[])
    return mgetBySlot(keys, (group) =>
      this.reads.mget(group).catch((error: unknown) => this.commands.redirected<(string | null)[]>(error, 'mget', group)),
    )
  }

  /** `GET` of a hot key; with `readFrom: 'replicas-for-hot-keys'` (or `'replicas'`) on a replica of its shard. */
  async getHot(key: string): Promise<string | null> {
    if (this.lifecycle.startup !== undefined) await this.lifecycle.startup
    return this.reads.getHot(key).catch((error: unknown) => this.commands.redirected<string | null>(error, 'get', [key]))
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    if (this.lifecycle.startup !== undefined) await this.lifecycle.startup
    await this.commands.set(key, value, ttlMs)
  }

  /** `UNLINK` per slot: a value and its lease go together. See `ShardDeletes.clusterSlot` for slots that migrate. */
  async delete(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return
    if (this.lifecycle.startup !== undefined) await this.lifecycle.startup
    await this.shards.delete(keys, false)
  }

  /**
   * `UNLINK` per slot followed, on the same master connection, by `WAIT 1 <replicaAckTimeoutMs>`
   * when the shard has replicas; resolves with the keys no replica acknowledged in time (each
   * with its shard). With `replicaAckTimeoutMs: 0` nothing is waited for and nothing is reported.
   */
  async deleteDurably(keys: readonly string[]): Promise<DeleteOutcome> {
    if (keys.length === 0) return { unconfirmed: [] }
    if (this.lifecycle.startup !== undefined) await this.lifecycle.startup
    return { unconfirmed: await this.shards.delete(keys, true) }
  }

  /** The master owning `key`'s slot (`host:port`, as ioredis's slot map names it); `'primary'` for a standalone or Sentinel store. */
  shardOf(key: string): string {
    return this.shards.shardOf(key)
  }

  /**
   * Calls `listener` after each topology change: a cluster's slot map read (every second while
   * anyone listens, every 200 ms for 30 s after a node fails) that shows a slot on another master
   * (a failover, a slot move) or a master joining or leaving; for a standalone or Sentinel store,
   * a reconnection that reached a primary at another address (a Sentinel failover, announced by
   * `+switch-master`).
   */
  onTopologyChange(listener: (change: TopologyChange) => void): () => void {
    return this.shards.onTopologyChange(listener)
  }

  async acquireLock(lockKey: string, token: string, ttlMs: number): Promise<boolean> {
    if (this.lifecycle.startup !== undefined) await this.lifecycle.startup
    return acquireLock(this.commands, lockKey, token, ttlMs)
  }

  async setIfLeaseHeld(key: string, lockKey: string, token: string, value: string, ttlMs: number): Promise<boolean> {
    if (this.lifecycle.startup !== undefined) await this.lifecycle.startup
    return setIfLeaseHeld(this.commands, key, lockKey, token, value, ttlMs)
  }

  async releaseLock(lockKey: string, token: string): Promise<void> {
    if (this.lifecycle.startup !== undefined) await this.lifecycle.startup
    await releaseLock(this.commands, lockKey, token)
  }

  async getTagStamps(tagKeys: readonly string[]): Promise<number[]> {
    const raw = await this.getMany(tagKeys)
    return raw.map(parseStamp)
  }

  async stampTags(tagKeys: readonly string[], stampMs: number, ttlMs: number): Promise<void> {
    if (this.lifecycle.startup !== undefined) await this.lifecycle.startup
    await stampTags(this.commands, tagKeys, stampMs, ttlMs)
  }

  spreadKeys(makeKey: (n: number) => string, count: number): string[] {
    return spreadKeys(this.shards.cluster, this.reads, makeKey, count)
  }

  async setReplica(key: string, value: string, ttlMs: number): Promise<boolean> {
    if (this.lifecycle.startup !== undefined) await this.lifecycle.startup
    return setReplica(this.commands, key, value, ttlMs)
  }

  async tombstone(keys: readonly string[], ttlMs: number): Promise<void> {
    if (keys.length === 0) return
    if (this.lifecycle.startup !== undefined) await this.lifecycle.startup
    await tombstone(this.commands, keys, ttlMs)
  }

  /**
   * `tombstone`, confirmed like `deleteDurably`: the tombstones of a slot on its master's
   * connection, followed by `WAIT 1 <replicaAckTimeoutMs>` when the shard has replicas; resolves
   * with the keys no replica acknowledged in time.
   */
  async tombstoneDurably(keys: readonly string[], ttlMs: number): Promise<DeleteOutcome> {
    if (keys.length === 0) return { unconfirmed: [] }
    if (this.lifecycle.startup !== undefined) await this.lifecycle.startup
    return { unconfirmed: await this.shards.delete(keys, true, { kind: 'tombstone', ttlMs }) }
  }

  async publish(channel: string, message: string): Promise<void> {
    if (this.lifecycle.startup !== undefined) await this.lifecycle.startup
    await this.bus.publish(channel, message)
  }

  subscribe(channel: string, handlers: BusHandlers): Promise<BusSubscription> {
    return this.bus.subscribe(channel, handlers)
  }

  /**
   * The startup check: `createCache` runs it bare to watch the first connection, `cache.ready()`
   * runs it with a probe key and the bus channel. Resolves once the client is connected and, with
   * `probeKey`, every keyed command the store sends has run on that
   * key (SET NX PX, the four Lua scripts, SET PX, GET, MGET, UNLINK; the key is gone afterwards),
   * and with `channel` the bus could subscribe to it. Rejects with `TierCacheError`:
   *
   * - `L2_AUTH` at once when Redis refuses this client: `WRONGPASS`/`NOAUTH` (user or password),
   *   `NOPERM` (a command, key pattern or channel the ACL does not grant), or a TLS failure (a
   *   server certificate the client does not trust, a client certificate the server wants). The
   *   message carries the server's or TLS layer's own words, never the credentials.
   * - `L2_UNAVAILABLE` when the store is closed first, or `timeoutMs` passes while Redis cannot
   *   be reached or cannot serve (default: no limit, it waits for Redis to come).
   */
  ready(check?: ReadyCheck): Promise<void> {
    return runStartupCheck(
      startupClient(this.client),
      { keyed: (key) => probeKeyedCommands(this, key), subscribe: (channel) => probeChannel(this, channel) },
      check,
    )
  }

  /**
   * Deletes every key starting with one of `prefixes` on every master: `SCAN MATCH` and `UNLINK`
   * in batches of about 1000 keys, never `KEYS`; see `unlinkByPrefix`. Resolves with the number
   * of keys deleted.
   */
  async deleteByPrefix(prefixes: readonly string[]): Promise<number> {
    if (this.lifecycle.startup !== undefined) await this.lifecycle.startup
    return unlinkByPrefix(this.client, this.cluster, prefixes)
  }

  /**
   * The check of the deployment this store runs once its client is first ready (unless created
   * with `deploymentCheck: false`): `maxmemory` and `maxmemory-policy` of every master,
   * `cluster_state`, slot coverage, and the number of seed nodes (or Sentinels) given. Each
   * finding is logged once, as a warning, on the store's `logger`. Resolves with the findings
   * (the same promise on every call). A cluster client that cannot get ready (ioredis waits for
   * `cluster_state:ok`) is checked through its seed nodes; a standalone or Sentinel client that is
   * not ready within 10 s rejects (and is checked once it is ready, when the check runs by itself).
   */
  deploymentCheck(): Promise<Finding[]> {
    return this.lifecycle.deploymentCheck(() => checkWhenReady(this.client, this.cluster, this.seeds, this.log))
  }

  /** Closes the bus' connections, then quits the client if the store created it. Idempotent. */
  close(): Promise<void> {
    return this.lifecycle.close(async () => {
      this.bus.close()
      this.shards.close()
      await this.reads.close()
      if (this.ownsClient) await quitClient(this.client)
    })
  }
}
