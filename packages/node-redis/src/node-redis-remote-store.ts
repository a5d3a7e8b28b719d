import {
  type BusHandlers,
  type BusSubscription,
  type DeleteOutcome,
  type Logger,
  type ReadyCheck,
  type RemoteStore,
  silentLogger,
  type TopologyChange,
} from '@tiercache/core'
import {
  type BusMode,
  DEFAULT_REPLICA_ACK_TIMEOUT_MS,
  type Finding,
  foreignType,
  mgetBySlot,
  PubSubBus,
  parseStamp,
  perSlot,
  probeChannel,
  probeKeyedCommands,
  runStartupCheck,
  StoreLifecycle,
  type SubscriberTopology,
  scanPatterns,
  spreadOverMasters,
  TOMBSTONE,
  unlinkOnNode,
} from '@tiercache/redis-common'
import type { ClientHandle, DataCommands, NodeRedisClient } from './connection/client-handle.js'
import { firstConnectSettled, startupClient } from './connection/startup-client.js'
import { checkNodeRedisDeployment } from './deployment-check.js'
import { runScript } from './lua-scripts.js'
import { primaryReads, type ReadRouting } from './read-routing.js'
import { deploymentShards } from './shards/deployment-shards.js'
import type { StoreShards } from './shards/store-shards.js'

/** What a {@link NodeRedisRemoteStore} is built from; the factories assemble it. */
export interface NodeRedisRemoteStoreParts {
  name: string
  handle: ClientHandle
  /** The store created the client, so `close()` closes it. */
  ownsClient: boolean
  bus: BusMode
  topology: SubscriberTopology
  /** Where `GET`/`MGET` go (`readFrom`); default: the primary. */
  reads?: ReadRouting | undefined
  /** Where the deployment check's warnings go; default: silent. */
  logger?: Logger | undefined
  /** Run the deployment check once the client is first ready. Default `true`. */
  deploymentCheck?: boolean | undefined
  /** The seed nodes or Sentinels the client was given (`host:port`); `undefined` for a passed-in client. */
  seeds?: readonly string[] | undefined
  /** How long a durable delete waits for a replica (ms); 0: not at all. Default 50. */
  replicaAckTimeoutMs?: number | undefined
}

/**
 * `RemoteStore` on node-redis v5 (`@redis/client`), for a Redis Cluster, a standalone Redis or a
 * Sentinel deployment. Create one with `nodeRedisClusterStore` or `nodeRedisStore`.
 *
 * All reads, writes, locks, leases and tag stamps share the client's connections (one per node
 * for a cluster, one for a standalone server; node-redis pipelines the commands of one tick into
 * one write); the bus adds its subscriber connection(s) on the first `subscribe`. Errors from
 * Redis reject the returned promises as they are: deciding what a failure means is the core's job.
 */
export class NodeRedisRemoteStore implements RemoteStore {
  /** `node-redis-cluster`, `node-redis` or `node-redis-sentinel`. */
  readonly name: string
  /** The node-redis client, e.g. to listen to its events. */
  readonly client: NodeRedisClient
  private readonly handle: ClientHandle
  private readonly commands: DataCommands
  private readonly cluster: boolean
  private readonly ownsClient: boolean
  private readonly bus: PubSubBus
  private readonly reads: ReadRouting
  private readonly log: Logger
  private readonly seeds: readonly string[] | undefined
  private readonly shards: StoreShards
  /** Commands wait for the client's first connection attempt (see `firstConnectSettled`); `close()` runs once. */
  private readonly lifecycle: StoreLifecycle

  constructor(parts: NodeRedisRemoteStoreParts) {
    this.name = parts.name
    this.handle = parts.handle
    this.client = parts.handle.client
    this.commands = parts.handle.commands
    this.cluster = parts.handle.kind === 'cluster'
    this.ownsClient = parts.ownsClient
    this.reads = parts.reads ?? primaryReads(this.commands)
    this.log = (parts.logger ?? silentLogger).child({ component: 'node-redis-store', store: parts.name })
    this.seeds = parts.seeds
    this.shards = deploymentShards(parts.handle, parts.replicaAckTimeoutMs ?? DEFAULT_REPLICA_ACK_TIMEOUT_MS)
    const sharded = parts.bus === 'spublish'
    this.bus = new PubSubBus({
      publish: (channel, message) => this.handle.publish(sharded, channel, message),
      topology: parts.topology,
      sharded,
      // A shard channel follows its slot to a promoted master (PubSubBus.relocate).
      watchTopology: (listener) => this.shards.onTopologyChange(listener),
    })
    // Connects a client the store created (and a passed-in one that is not open yet), retrying
    // until Redis answers; commands sent before the first attempt settles wait for it.
    void this.handle.connect()
    this.lifecycle = new StoreLifecycle(firstConnectSettled(this.handle))
    if (parts.deploymentCheck !== false) void this.deploymentCheck()
  }

  // Not async: this is the L2 hit path, and an async wrapper with an await costs a promise and
  // microtask turns per read.
  get(key: string): Promise<string | null> {
    const startup = this.lifecycle.startup
    if (startup !== undefined) return startup.then(() => this.reads.get(key).catch(foreignType))
    return this.reads.get(key).catch(foreignType)
  }

  async getMany(keys: readonly string[]): Promise<(string | null)[]> {
    if (keys.length === 0) return []
    if (this.lifecycle.startup !== undefined) await this.lifecycle.startup
    if (!this.cluster) return this.reads.mget(keys as string[])
    return mgetBySlot(keys, (group) => this.reads.mget(group))
  }

  /** `GET` of a hot key; with `readFrom: 'replicas-for-hot-keys'` (or `'replicas'`) on a replica of its shard. */
  async getHot(key: string): Promise<string | null> {
    if (this.lifecycle.startup !== undefined) await this.lifecycle.startup
    return this.reads.getHot(key)
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    if (this.lifecycle.startup !== undefined) await this.lifecycle.startup
    await this.commands.set(key, value, { expiration: { type: 'PX', value: ttlMs } })
  }

  async delete(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return
    if (this.lifecycle.startup !== undefined) await this.lifecycle.startup
    if (!this.cluster) await this.commands.unlink(keys as string[])
    else await perSlot(keys, (group) => this.commands.unlink(group))
  }

  /**
   * `UNLINK` per slot followed, on the same connection to the key's master, by
   * `WAIT 1 <replicaAckTimeoutMs>` when the shard has replicas; resolves with the keys no replica
   * acknowledged in time (each with its shard). A shard without replicas is not waited for; with
   * `replicaAckTimeoutMs: 0` nothing is waited for and nothing is reported. After a wait on a shard
   * timed out, its durable deletes report unconfirmed at once for 1 s. The rules are the ioredis
   * store's (`DurableDeletes` in `@tiercache/redis-common`); see `shards/`.
   */
  async deleteDurably(keys: readonly string[]): Promise<DeleteOutcome> {
    if (keys.length === 0) return { unconfirmed: [] }
    if (this.lifecycle.startup !== undefined) await this.lifecycle.startup
    return { unconfirmed: await this.shards.delete(keys, true) }
  }

  async acquireLock(lockKey: string, token: string, ttlMs: number): Promise<boolean> {
    if (this.lifecycle.startup !== undefined) await this.lifecycle.startup
    // A script, not SET NX: a resent attempt must find its own lock taken (see ACQUIRE_LOCK).
    return Number(await runScript(this.commands, 'acquireLock', [lockKey], [token, ttlMs])) === 1
  }

  async setIfLeaseHeld(key: string, lockKey: string, token: string, value: string, ttlMs: number): Promise<boolean> {
    if (this.lifecycle.startup !== undefined) await this.lifecycle.startup
    return Number(await runScript(this.commands, 'setIfLeaseHeld', [key, lockKey], [token, value, ttlMs])) === 1
  }

  async releaseLock(lockKey: string, token: string): Promise<void> {
    if (this.lifecycle.startup !== undefined) await this.lifecycle.startup
    await runScript(this.commands, 'releaseLock', [lockKey], [token])
  }

  async getTagStamps(tagKeys: readonly string[]): Promise<number[]> {
    const raw = await this.getMany(tagKeys)
    return raw.map(parseStamp)
  }

  async stampTags(tagKeys: readonly string[], stampMs: number, ttlMs: number): Promise<void> {
    if (this.lifecycle.startup !== undefined) await this.lifecycle.startup
    // One script per tag: tags live on different slots, and each raise is atomic on its own.
    await Promise.all(tagKeys.map((tagKey) => runScript(this.commands, 'stampTag', [tagKey], [stampMs, ttlMs])))
  }

  /**
   * The shard `key` lives on: on a cluster the master owning its slot (`host:port`, as node-redis's
   * slot table has it); `primary` for a standalone server or a Sentinel deployment.
   */
  shardOf(key: string): string {
    return this.shards.shardOf(key)
  }

  /**
   * Calls `listener` after each topology change the store sees: on a cluster, slots that changed
   * master and masters that left or joined (failover, resharding), within about a second (200 ms
   * while a node is failing); through Sentinel, a move to another primary. Nothing on a standalone
   * server. See `shards/cluster-shards.ts`.
   */
  onTopologyChange(listener: (change: TopologyChange) => void): () => void {
    return this.shards.onTopologyChange(listener)
  }

  spreadKeys(makeKey: (n: number) => string, count: number): string[] {
    // One shard: copies spread nothing, unless hot-key reads go to its replica nodes.
    if (!this.cluster) return this.reads.hotCopiesOnOneShard && count > 0 ? [makeKey(0)] : []
    return spreadOverMasters(makeKey, count, (slot) => this.handle.masterOfSlot(slot))
  }

  async setReplica(key: string, value: string, ttlMs: number): Promise<boolean> {
    if (this.lifecycle.startup !== undefined) await this.lifecycle.startup
    return Number(await runScript(this.commands, 'setReplica', [key], [TOMBSTONE, value, ttlMs])) === 1
  }

  async tombstone(keys: readonly string[], ttlMs: number): Promise<void> {
    if (keys.length === 0) return
    if (this.lifecycle.startup !== undefined) await this.lifecycle.startup
    await Promise.all(keys.map((key) => this.commands.set(key, TOMBSTONE, { expiration: { type: 'PX', value: ttlMs } })))
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
   * The startup check, as `RedisRemoteStore.ready` in `@tiercache/redis` does it: resolves once
   * the client is connected and, with `probeKey`, every keyed command the store sends has run on
   * that key, and with `channel` the bus could subscribe to it. Rejects with `TierCacheError`
   * `L2_AUTH` at once when Redis refuses this client (`WRONGPASS`, `NOAUTH`, `NOPERM`, a TLS
   * failure), and `L2_UNAVAILABLE` when the store is closed first or `timeoutMs` passes.
   */
  ready(check?: ReadyCheck): Promise<void> {
    return runStartupCheck(
      startupClient(this.handle, () => this.lifecycle.closed),
      { keyed: (key) => probeKeyedCommands(this, key), subscribe: (channel) => probeChannel(this, channel) },
      check,
    )
  }

  /**
   * Deletes every key starting with one of `prefixes` on every master: `SCAN MATCH` and `UNLINK`
   * in batches of about 1000 keys, never `KEYS`. Resolves with the number of keys deleted.
   */
  async deleteByPrefix(prefixes: readonly string[]): Promise<number> {
    if (prefixes.length === 0) return 0
    await this.handle.connect()
    const patterns = scanPatterns(prefixes)
    const masters = await this.handle.masters()
    const removed = await Promise.all(masters.map((master) => unlinkOnNode(master, patterns, this.cluster)))
    return removed.reduce((sum, count) => sum + count, 0)
  }

  /**
   * The check of the deployment this store runs once its client is first ready (unless created
   * with `deploymentCheck: false`): `maxmemory` and `maxmemory-policy` of every master,
   * `cluster_state`, slot coverage, and the number of seed nodes (or Sentinels) given. Each
   * finding is logged once, as a warning, on the store's `logger`. Resolves with the findings
   * (the same promise on every call), once the client has connected.
   */
  deploymentCheck(): Promise<Finding[]> {
    return this.lifecycle.deploymentCheck(() =>
      this.handle.connect().then(() => checkNodeRedisDeployment(this.handle, this.seeds, this.log)),
    )
  }

  /** Closes the bus' connections, then the client if the store created it. Idempotent. */
  close(): Promise<void> {
    return this.lifecycle.close(async () => {
      this.bus.close()
      await this.shards.close()
      await this.handle.close(this.ownsClient)
    })
  }
}
