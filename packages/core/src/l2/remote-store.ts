/**
 * The one boundary between the engine and a shared remote tier (L2).
 *
 * The core never knows Redis: everything Redis-shaped goes through this contract, implemented
 * by `@tiercache/redis`. Keys arrive fully built by the core (namespace, entity, hash tag), so
 * a store never decides policy; it only moves bytes, takes locks and carries bus messages.
 *
 * Values are opaque strings (the core's encoded envelope). Every method may reject; the core
 * treats a rejected read as a miss and a rejected write as a logged, counted failure.
 */
export interface RemoteStore {
  /** A short name for logs and metrics, e.g. `redis-cluster`. */
  readonly name: string

  /**
   * Reads one raw envelope; `null` when the key does not exist. A key holding something that is
   * not a string (another application's hash or list) reads as a string that is not an envelope,
   * so the core treats it like any foreign data (a miss, removed, logged) rather than as a
   * failure of the store.
   */
  get(key: string): Promise<string | null>

  /**
   * Optional. Reads a hot key (the core reads hot-key replicas through it): the same answer as
   * `get`, but the store may serve it from a replica node of the key's shard (`readFrom:
   * 'replicas-for-hot-keys'` in `@tiercache/redis`), which spreads one key's reads over more
   * nodes. Replication is asynchronous, so such a read may return a value invalidated a moment
   * ago; the core never lets a read that started before an invalidation it heard of fill L1.
   * Without it the core uses `get`.
   */
  getHot?(key: string): Promise<string | null>

  /**
   * Reads many raw envelopes in as few round trips as the backend allows (one per node for a
   * cluster). The result has the same length and order as `keys`; a missing key is `null`.
   */
  getMany(keys: readonly string[]): Promise<(string | null)[]>

  /** Writes one raw envelope that expires after `ttlMs` milliseconds (an integer >= 1). */
  set(key: string, value: string, ttlMs: number): Promise<void>

  /**
   * Deletes keys. Keys may live on different slots; the store groups them as it needs.
   * Deleting a key that does not exist is not an error.
   */
  delete(keys: readonly string[]): Promise<void>

  /**
   * Optional. Deletes keys like `delete`, then confirms that the deletion reached a replica of
   * each shard that has replicas (Redis: `WAIT 1 <timeout>` on the owning master, on the
   * connection that sent the delete), so a failover cannot bring a deleted value back. Resolves
   * with the keys it could not confirm (see {@link DeleteOutcome}); a shard without replicas needs
   * no confirmation. Rejects like `delete` when the deletion itself failed. The engine sends its
   * invalidations through it when present (unless durable invalidation is turned off).
   */
  deleteDurably?(keys: readonly string[]): Promise<DeleteOutcome>

  /**
   * Optional. The shard `key` lives on now: an opaque id, stable while the topology is (for Redis
   * Cluster, the address of the master that owns the key's slot; one constant id for a standalone
   * server and for a Sentinel-managed primary). The engine keeps breaker and timeout accounting
   * per shard and remembers where an unconfirmed deletion went. Synchronous and cheap: it runs on
   * every L2 call. Without it the store is one shard.
   */
  shardOf?(key: string): string

  /**
   * Optional. Calls `listener` after every change of the store's topology that it sees: a failover
   * (another node now serves a shard's keys), slots moving between masters, a master joining or
   * leaving. `change.shards` names every shard involved, under its old and its new id (a
   * failed-over master and the replica promoted in its place are both listed). The store detects
   * changes within about a second (sooner while a node is failing). Returns a function that stops
   * the calls.
   */
  onTopologyChange?(listener: (change: TopologyChange) => void): () => void

  /**
   * Takes the fleet-wide load lock for a value key, like `SET lockKey token NX PX ttlMs`.
   * Resolves `true` when `token` now holds it, also when it held it already: an attempt that
   * reached Redis twice (a client resending a command whose connection closed) must not report
   * its own lock as another's, which nobody would release. `lockKey` shares the value key's slot.
   */
  acquireLock(lockKey: string, token: string, ttlMs: number): Promise<boolean>

  /**
   * Writes `value` under `key` only while `lockKey` still holds `token` (the lease), and
   * releases the lock in the same atomic step. Resolves `true` when the value was written.
   * An invalidation deletes value and lock together, so a load that raced a write cannot
   * put its old value back: the lease is gone and this resolves `false`.
   */
  setIfLeaseHeld(key: string, lockKey: string, token: string, value: string, ttlMs: number): Promise<boolean>

  /** Releases the lock when it still holds `token` (compare-and-delete). */
  releaseLock(lockKey: string, token: string): Promise<void>

  /**
   * Reads tag invalidation stamps (milliseconds since the epoch, as written by `stampTags`);
   * a tag never invalidated is `0`. Same length and order as `tagKeys`.
   */
  getTagStamps(tagKeys: readonly string[]): Promise<number[]>

  /**
   * Records that every entry carrying these tags and created at or before `stampMs` is invalid.
   * A stamp never moves backwards. `ttlMs` bounds how long the stamp must be kept (the longest
   * lifetime of any entry that could carry the tag).
   */
  stampTags(tagKeys: readonly string[], stampMs: number, ttlMs: number): Promise<void>

  /**
   * Picks keys for the replicas of a hot key so that each falls on a different master of the
   * current slot map: tries `makeKey(0)`, `makeKey(1)`, ... in order and keeps the first key
   * found on each master, up to `count` keys. Deterministic for a given slot map, so every
   * instance finds (and can delete) every replica without asking the others. Returns `[]` when
   * the backend has a single shard (replicas would not spread anything; a store whose `getHot`
   * reads replica nodes may return one key there instead) or does not know its slot map yet.
   */
  spreadKeys(makeKey: (n: number) => string, count: number): string[]

  /**
   * Writes a replica of a hot key unless a tombstone stands there (see `tombstone`); resolves
   * `true` when written.
   */
  setReplica(key: string, value: string, ttlMs: number): Promise<boolean>

  /**
   * Replaces replicas with tombstones that live `ttlMs`: a replica write already on its way
   * when the key was invalidated fails instead of landing after the invalidation. A tombstone
   * reads as something that is not an envelope, which the core treats as a replica miss.
   */
  tombstone(keys: readonly string[], ttlMs: number): Promise<void>

  /**
   * Optional. `tombstone`, then confirms that the tombstones reached a replica of each shard that
   * has replicas, as `deleteDurably` does for deletions: a copy a failover brought back would be
   * read until its own TTL. Resolves with the keys it could not confirm; rejects like `tombstone`
   * when the write itself failed. The engine tombstones an invalidated hot key's copies through it
   * when present (unless durable invalidation is turned off).
   */
  tombstoneDurably?(keys: readonly string[], ttlMs: number): Promise<DeleteOutcome>

  /** Publishes a message on a bus channel. */
  publish(channel: string, message: string): Promise<void>

  /**
   * Subscribes to a bus channel. `onMessage` receives every message published on it (also
   * this instance's own: the core filters those). `onDisconnect` fires when the subscription
   * is lost, with its {@link BusLossCause} (messages may be missed from then on), `onReconnect` once the
   * subscription is active again, so the core can distrust what it may have missed.
   * Resolves once the subscription is active.
   */
  subscribe(channel: string, handlers: BusHandlers): Promise<BusSubscription>

  /**
   * Optional. Deletes every key that starts with one of `prefixes` and resolves with the number
   * deleted; `cache.clear()` needs it. It must not block the backend (Redis: `SCAN` + `UNLINK` in
   * batches on every master, never `KEYS`) and may take seconds for millions of keys, so the core
   * calls it without its per-call L2 timeout.
   */
  deleteByPrefix?(prefixes: readonly string[]): Promise<number>

  /** Releases every connection and timer this store owns. A client passed in by the user stays open. */
  close(): Promise<void>

  /**
   * Optional startup check; `createCache` starts it at once and `cache.ready()` waits for it.
   * Resolves once the store is connected and may run what the cache sends (see {@link ReadyCheck}).
   * Rejects with `TierCacheError` `L2_AUTH` as soon as the backend refuses this client for good
   * (wrong user or password, missing ACL rights, a TLS certificate one side does not trust), and
   * with `L2_UNAVAILABLE` when the store is closed first or `timeoutMs` passes while the backend
   * is unreachable; until then an unreachable backend is waited for.
   */
  ready?(check?: ReadyCheck): Promise<void>
}

/** What {@link RemoteStore.ready} proves beyond connecting. */
export interface ReadyCheck {
  /**
   * A key the check may write, read and delete within a few seconds, in the key space the cache
   * uses: it runs every keyed command the cache sends on it, so missing ACL rights (commands or
   * key patterns) surface at startup. `createCache` passes `{<namespace>:!ready}`, a key no entry
   * can have. Without it only the connection and the credentials are checked.
   */
  probeKey?: string
  /** A bus channel to subscribe to and leave again (nothing is published), proving the ACL allows it. */
  channel?: string
  /** Milliseconds to wait for an unreachable backend before rejecting with `L2_UNAVAILABLE`. Default: no limit. */
  timeoutMs?: number
}

/** What {@link RemoteStore.deleteDurably} could not confirm. */
export interface DeleteOutcome {
  /**
   * The keys deleted on their master but not yet known to be on any replica (the wait timed out,
   * or no replica acknowledged in time), each with the shard it was deleted on (`shardOf` at the
   * time). A failover of that shard may bring them back: the engine deletes them again after the
   * shard's next topology change (at once when `shardOf(key)` already differs), until confirmed.
   */
  unconfirmed: readonly { key: string; shard: string }[]
}

/** A topology change reported by {@link RemoteStore.onTopologyChange}. */
export interface TopologyChange {
  /** The ids (as `shardOf` returns them) of every shard involved, old and new; never empty. */
  shards: readonly string[]
  /** What happened, for logs: `failover` (a shard changed master), `slots` (slots changed master), `nodes` (a master joined or left). */
  reason: 'failover' | 'slots' | 'nodes'
  /**
   * Every shard that owns slots after the change, when the store knows them: the guard forgets
   * the breakers of shards no longer listed (a master that was failed over and left, a node
   * removed), so a long-lived cache whose cluster churns does not keep one breaker per master
   * it ever saw, nor count a departed shard's open breaker in the store's state.
   */
  current?: readonly string[]
}

/**
 * Why a bus subscription was lost: `connection` (the subscriber's connection ended: node down,
 * connection killed) or `moved` (a shard channel's slot moved to another master, which ends its
 * subscription there: routine during resharding). Messages may be missed either way.
 */
export type BusLossCause = 'connection' | 'moved'

/** Callbacks of one bus subscription. */
export interface BusHandlers {
  onMessage(message: string): void
  onDisconnect?(cause: BusLossCause): void
  onReconnect?(): void
}

/** A live bus subscription. */
export interface BusSubscription {
  unsubscribe(): Promise<void>
}
