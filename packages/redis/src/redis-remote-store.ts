import { type BusHandlers, type BusSubscription, type Logger, type ReadyCheck, type RemoteStore, silentLogger } from '@tiercache/core'
import type { Cluster, Redis } from 'ioredis'
import { busFlavour } from './bus/bus-flavour.js'
import { PubSubBus } from './bus/pubsub-bus.js'
import type { SubscriberTopology } from './bus/subscriber-topology.js'
import { FIRST_CONNECT_WAIT_MS, firstConnectSettled, whenReady } from './client-readiness.js'
import { asDataClient, type DataClient } from './data-client.js'
import { checkDeployment } from './deployment/deployment-check.js'
import type { Finding } from './deployment/findings.js'
import { groupBySlot } from './key-slot.js'
import { absorbLateSocketErrors } from './late-socket-errors.js'
import { defineScripts, SCRIPTS, type ScriptCommands } from './lua-scripts.js'
import type { BusMode } from './options/common-options.js'
import { unlinkByPrefix } from './prefix-unlink.js'
import { primaryReads, type ReadRouting } from './read-routing.js'
import { redactCredentials } from './redact-credentials.js'
import { resendRedirected } from './redirections.js'
import { ClusterShards, type DeleteOutcome, type TopologyChange } from './shards/cluster-shards.js'
import { PRIMARY_SHARD, PrimaryShard } from './shards/primary-shard.js'
import { DEFAULT_REPLICA_ACK_TIMEOUT_MS, ShardDeletes, type UnconfirmedDelete } from './shards/shard-deletes.js'
import { runStartupCheck } from './startup-check.js'
import { probeChannel, probeKeyedCommands } from './store-probe.js'

/** What a {@link RedisRemoteStore} is built from; the factories assemble it. */
export interface RedisRemoteStoreParts {
  name: string
  client: Redis | Cluster
  /** The store created the client, so `close()` quits it. */
  ownsClient: boolean
  /** Multi-key commands must be split by hash slot. */
  cluster: boolean
  bus: BusMode
  topology: SubscriberTopology
  /** Where `GET`/`MGET` go (`readFrom`); default: the client, i.e. the primary. */
  reads?: ReadRouting
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
  private readonly commands: DataClient
  private readonly scripts: ScriptCommands
  private readonly cluster: boolean
  private readonly ownsClient: boolean
  private readonly bus: PubSubBus
  private readonly reads: ReadRouting
  private readonly log: Logger
  private readonly seeds: readonly string[] | undefined
  private deploymentChecking: Promise<Finding[]> | undefined
  /** Pending until the client's first connection attempt settles; see `firstConnectSettled`. */
  private startup: Promise<void> | undefined
  private closing: Promise<void> | undefined
  /** Exactly one of the two, by deployment kind: a cluster's masters, or the one primary. */
  private readonly clusterShards: ClusterShards | undefined
  private readonly primaryShard: PrimaryShard | undefined
  private readonly deletes: ShardDeletes
  private readonly publishCommand: BusMode

  constructor(parts: RedisRemoteStoreParts) {
    this.name = parts.name
    this.client = parts.client
    this.commands = asDataClient(parts.client)
    this.scripts = defineScripts(parts.client)
    this.cluster = parts.cluster
    this.ownsClient = parts.ownsClient
    this.bus = new PubSubBus(this.commands, parts.topology, busFlavour(parts.bus))
    this.publishCommand = parts.bus
    this.reads = parts.reads ?? primaryReads(parts.client)
    this.log = (parts.logger ?? silentLogger).child({ component: 'redis-store', store: parts.name })
    this.seeds = parts.seeds
    if (parts.cluster) this.clusterShards = new ClusterShards(parts.client as Cluster)
    else this.primaryShard = new PrimaryShard(parts.client as Redis)
    this.deletes = new ShardDeletes(parts.replicaAckTimeoutMs ?? DEFAULT_REPLICA_ACK_TIMEOUT_MS)
    if (parts.deploymentCheck !== false) {
      // A Redis that cannot be reached now is checked once it is.
      const check = (): void => {
        this.deploymentCheck().catch(() => {
          if (this.closing === undefined) parts.client.once('ready', check)
        })
      }
      check()
    }
    // Every failure already reaches the caller of the command that hit it (the core counts and
    // logs them); without a listener, ioredis would also print each connection error to stderr.
    // The listener blanks the password a failed AUTH/HELLO carries before anyone else sees it.
    if (parts.ownsClient) parts.client.prependListener('error', redactCredentials)
    parts.client.prependListener('node error', redactCredentials)
    this.startup = firstConnectSettled(parts.client)
    this.startup?.then(() => {
      this.startup = undefined
    })
  }

  // Not async: this is the L2 hit path, and an async wrapper with an await costs a promise and
  // microtask turns per read.
  get(key: string): Promise<string | null> {
    if (this.startup !== undefined) return this.startup.then(() => this.get(key))
    return this.reads
      .get(key)
      .catch((error: unknown) => this.redirected<string | null>(error, 'get', [key]))
      .catch(foreignType)
  }

  async getMany(keys: readonly string[]): Promise<(string | null)[]> {
    if (keys.length === 0) return []
    if (this.startup !== undefined) await this.startup
    if (!this.cluster) return this.reads.mget(keys as string[])
    return this.mgetBySlot(keys)
  }

  /** `GET` of a hot key; with `readFrom: 'replicas-for-hot-keys'` (or `'replicas'`) on a replica of its shard. */
  async getHot(key: string): Promise<string | null> {
    if (this.startup !== undefined) await this.startup
    return this.reads.getHot(key).catch((error: unknown) => this.redirected<string | null>(error, 'get', [key]))
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    if (this.startup !== undefined) await this.startup
    await this.commands.set(key, value, 'PX', ttlMs).catch((error: unknown) => this.redirected(error, 'set', [key, value, 'PX', ttlMs]))
  }

  /** `UNLINK` per slot: a value and its lease go together. See {@link ShardDeletes.clusterSlot} for slots that migrate. */
  async delete(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return
    await this.deleteKeys(keys, false)
  }

  /**
   * `UNLINK` per slot followed, on the same master connection, by `WAIT 1 <replicaAckTimeoutMs>`
   * when the shard has replicas; resolves with the keys no replica acknowledged in time (each
   * with its shard). With `replicaAckTimeoutMs: 0` nothing is waited for and nothing is reported.
   */
  async deleteDurably(keys: readonly string[]): Promise<DeleteOutcome> {
    if (keys.length === 0) return { unconfirmed: [] }
    return { unconfirmed: await this.deleteKeys(keys, true) }
  }

  private async deleteKeys(keys: readonly string[], durable: boolean): Promise<UnconfirmedDelete[]> {
    if (this.startup !== undefined) await this.startup
    if (this.primaryShard !== undefined) return this.deletes.primary(this.client as Redis, this.primaryShard, keys as string[], durable)
    const shards = this.clusterShards as ClusterShards
    const groups = groupBySlot(keys)
    const outcomes = await Promise.all(
      Array.from(groups.values(), (positions) => this.deletes.clusterSlot(this.client as Cluster, shards, pick(keys, positions), durable)),
    )
    return outcomes.flat()
  }

  /** The master owning `key`'s slot (`host:port`, as ioredis's slot map names it); `'primary'` for a standalone or Sentinel store. */
  shardOf(key: string): string {
    return this.clusterShards === undefined ? PRIMARY_SHARD : this.clusterShards.shardOf(key)
  }

  /**
   * Calls `listener` after each topology change: a cluster's slot map read (every second while
   * anyone listens, every 200 ms for 30 s after a node fails) that shows a slot on another master
   * (a failover, a slot move) or a master joining or leaving; for a standalone or Sentinel store,
   * a reconnection that reached a primary at another address (a Sentinel failover, announced by
   * `+switch-master`).
   */
  onTopologyChange(listener: (change: TopologyChange) => void): () => void {
    return (this.clusterShards ?? (this.primaryShard as PrimaryShard)).onTopologyChange(listener)
  }

  async acquireLock(lockKey: string, token: string, ttlMs: number): Promise<boolean> {
    if (this.startup !== undefined) await this.startup
    const reply = await this.commands
      .set(lockKey, token, 'PX', ttlMs, 'NX')
      .catch((error: unknown) => this.redirected(error, 'set', [lockKey, token, 'PX', ttlMs, 'NX']))
    return reply === 'OK'
  }

  async setIfLeaseHeld(key: string, lockKey: string, token: string, value: string, ttlMs: number): Promise<boolean> {
    if (this.startup !== undefined) await this.startup
    // Number(): a client with `stringNumbers` answers "1".
    const reply = await this.scripts
      .tiercacheSetIfLeaseHeld(key, lockKey, token, value, ttlMs)
      .catch((error: unknown) => this.redirectedScript(error, 'tiercacheSetIfLeaseHeld', [key, lockKey, token, value, ttlMs]))
    return Number(reply) === 1
  }

  async releaseLock(lockKey: string, token: string): Promise<void> {
    if (this.startup !== undefined) await this.startup
    await this.scripts
      .tiercacheReleaseLock(lockKey, token)
      .catch((error: unknown) => this.redirectedScript(error, 'tiercacheReleaseLock', [lockKey, token]))
  }

  async getTagStamps(tagKeys: readonly string[]): Promise<number[]> {
    const raw = await this.getMany(tagKeys)
    return raw.map(parseStamp)
  }

  async stampTags(tagKeys: readonly string[], stampMs: number, ttlMs: number): Promise<void> {
    if (this.startup !== undefined) await this.startup
    // One script per tag: tags live on different slots, and each raise is atomic on its own.
    await Promise.all(
      tagKeys.map((tagKey) =>
        this.scripts
          .tiercacheStampTag(tagKey, stampMs, ttlMs)
          .catch((error: unknown) => this.redirectedScript(error, 'tiercacheStampTag', [tagKey, stampMs, ttlMs])),
      ),
    )
  }

  spreadKeys(makeKey: (n: number) => string, count: number): string[] {
    // One shard: copies spread nothing, unless hot-key reads go to its replica nodes.
    if (!this.cluster) return this.reads.hotCopiesOnOneShard && count > 0 ? [makeKey(0)] : []
    return (this.clusterShards as ClusterShards).spreadKeys(makeKey, count)
  }

  async setReplica(key: string, value: string, ttlMs: number): Promise<boolean> {
    if (this.startup !== undefined) await this.startup
    const reply = await this.scripts
      .tiercacheSetReplica(key, TOMBSTONE, value, ttlMs)
      .catch((error: unknown) => this.redirectedScript(error, 'tiercacheSetReplica', [key, TOMBSTONE, value, ttlMs]))
    return Number(reply) === 1
  }

  async tombstone(keys: readonly string[], ttlMs: number): Promise<void> {
    if (keys.length === 0) return
    if (this.startup !== undefined) await this.startup
    await Promise.all(
      keys.map((key) =>
        this.commands
          .set(key, TOMBSTONE, 'PX', ttlMs)
          .catch((error: unknown) => this.redirected(error, 'set', [key, TOMBSTONE, 'PX', ttlMs])),
      ),
    )
  }

  async publish(channel: string, message: string): Promise<void> {
    if (this.startup !== undefined) await this.startup
    await this.bus.publish(channel, message).catch((error: unknown) => this.redirected(error, this.publishCommand, [channel, message]))
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
      this.client,
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
    if (this.startup !== undefined) await this.startup
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
    this.deploymentChecking ??= (
      this.cluster ? (firstConnectSettled(this.client) ?? Promise.resolve()) : whenReady(this.client, FIRST_CONNECT_WAIT_MS)
    ).then(
      () => {
        const kind = this.cluster ? 'cluster' : (this.client as Redis).options.sentinels ? 'sentinel' : 'standalone'
        return checkDeployment({ client: this.client, kind, seeds: this.seeds }, this.log)
      },
      (error: unknown) => {
        this.deploymentChecking = undefined
        throw error
      },
    )
    return this.deploymentChecking
  }

  /** Closes the bus' connections, then quits the client if the store created it. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown()
    return this.closing
  }

  private async shutdown(): Promise<void> {
    this.bus.close()
    this.clusterShards?.close()
    this.primaryShard?.close()
    await this.reads.close()
    if (!this.ownsClient) return
    absorbLateSocketErrors(this.client)
    try {
      await this.commands.quit()
    } catch {
      // QUIT fails when the connection is already gone; make sure nothing is left open.
      this.commands.disconnect()
    }
  }

  /** Follows a redirection that the command's auto-pipelined batch did not; see `resendRedirected`. */
  private redirected<T>(error: unknown, name: string, args: (string | number)[]): Promise<T> {
    return resendRedirected(this.cluster ? (this.client as Cluster) : undefined, error, name, args) as Promise<T>
  }

  /** The same for a script: sent as EVAL of its source, so a node that lacks it needs nothing else. */
  private redirectedScript(error: unknown, name: keyof typeof SCRIPTS, args: (string | number)[]): Promise<unknown> {
    const script = SCRIPTS[name]
    return this.redirected(error, 'eval', [script.lua, script.numberOfKeys, ...args])
  }

  /**
   * One MGET per slot, all issued in the same tick: auto-pipelining then packs the MGETs bound
   * for one node into one write, so a batch costs about one round trip per node.
   */
  private async mgetBySlot(keys: readonly string[]): Promise<(string | null)[]> {
    const groups = groupBySlot(keys)
    if (groups.size === 1) {
      return this.reads
        .mget(keys as string[])
        .catch((error: unknown) => this.redirected<(string | null)[]>(error, 'mget', keys as string[]))
    }
    const values = new Array<string | null>(keys.length)
    await Promise.all(
      Array.from(groups.values(), async (positions) => {
        const slotKeys = pick(keys, positions)
        const replies = await this.reads
          .mget(slotKeys)
          .catch((error: unknown) => this.redirected<(string | null)[]>(error, 'mget', slotKeys))
        for (let i = 0; i < positions.length; i++) values[positions[i] as number] = replies[i] ?? null
      }),
    )
    return values
  }
}

/** What `get` answers for a key holding another Redis type; never a valid envelope. */
const WRONG_TYPE = 'tc-wrong-type'
/** What an invalidated replica holds until its tombstone expires; never a valid envelope (`tiercache get` names it). */
export const TOMBSTONE = 'tc1-tombstone'

/**
 * Another application's hash or list under our key is foreign data, not a failing Redis:
 * reported as an error it would count against the circuit breaker and never be removed.
 */
function foreignType(error: unknown): string {
  if (error instanceof Error && error.message.startsWith('WRONGTYPE')) return WRONG_TYPE
  throw error
}

function pick(keys: readonly string[], positions: readonly number[]): string[] {
  return positions.map((position) => keys[position] as string)
}

/** A stamp is a non-negative integer of ms; anything else (missing, garbage) counts as never. */
function parseStamp(raw: string | null): number {
  if (raw === null) return 0
  const stamp = Number(raw)
  return Number.isSafeInteger(stamp) && stamp >= 0 ? stamp : 0
}
