import type { NodeAddress } from '@tiercache/testkit'

/**
 * Which tiers a contender runs with in a workload.
 *
 * - `l1`: its in-process tier in use. For a two-tier library that is its recommended
 *   multi-instance set-up (memory in front of Redis Cluster, plus its bus if it has one);
 *   for bare lru-cache, the LRU alone.
 * - `l2`: no in-process tier, every read goes to Redis (bare ioredis, and the libraries with
 *   their memory tier turned off).
 */
export type Profile = 'l1' | 'l2'

/** What every adapter is built from: the same sizes, TTLs and Redis for every contender. */
export interface AdapterContext {
  profile: Profile
  /**
   * Prefix of every key the adapter writes (and of its bus channel where it has one): unique
   * per workload and contender, shared by the instances of one contender that must see each other.
   */
  namespace: string
  /** Seed nodes of the Redis Cluster. */
  cluster: readonly NodeAddress[]
  /** TTL of a cached value (ms), in Redis and, where the library has no L1 TTL of its own, in memory. */
  ttlMs: number
  /** The in-process tier: longest an entry is served from memory (ms) and its capacity in entries. */
  l1: { ttlMs: number; maxEntries: number }
  /** tiercache only: the pub/sub flavour of its bus (default: the store's default). */
  bus?: 'publish' | 'spublish'
  /** tiercache only: hot-key handling of the entity (default: tiercache's defaults). */
  hot?: false | { l1Ttl?: number }
}

/** A loader as every contender receives it: the same function object for a key on every call. */
export type Loader<T> = () => T | Promise<T>

/**
 * One contender behind one interface. `getOrSet` may answer a hit synchronously (bare lru-cache
 * does, which is what "bare" means); the harness awaits every call alike.
 */
export interface CacheAdapter {
  /** Connects, subscribes, and resolves once the contender can serve. */
  setup(): Promise<void>
  /** The cached value of `key`, or `loader()`'s, cached for `ttlMs` (cache-aside). */
  getOrSet<T>(key: string, loader: Loader<T>, ttlMs: number): T | Promise<T>
  /** Removes `key` from every tier this instance can reach, and tells other instances where the library can. */
  invalidate(key: string): Promise<void>
  /** Closes every connection and timer the adapter opened. */
  teardown(): Promise<void>
  /**
   * Errors the library reported on an event (`error` listeners) instead of to the caller: a
   * library that turns a Redis failure into a miss reports it here.
   */
  readonly reportedErrors: number
  /** The tiercache entity's counters, for workloads that check every read hit the tier meant (tiercache only). */
  readonly entityStats?: () => { l1Hits: number; l2Hits: number; misses: number; loads: number; l2Errors: number }
}

/** A contender: how it is made and how it is described in the report. */
export interface AdapterSpec {
  /** Short name used in tables, charts and on the command line. */
  name: ContenderName
  /** Profiles it can run (bare lru-cache has no Redis, bare ioredis no memory tier). */
  profiles: readonly Profile[]
  /** npm packages whose versions the report lists for this contender (the first is the library). */
  packages: readonly string[]
  /** How it reaches other instances after an invalidation, for the report. */
  coherence: string
  /** Its configuration per profile, in words, for the report. */
  config: Record<Profile, string>
  /** Imports the library (only when used: a worker loads only its own contender) and builds an adapter. */
  load(): Promise<(context: AdapterContext) => CacheAdapter>
}

/** Every contender's name. */
export type ContenderName =
  | 'tiercache'
  | 'tiercache (node-redis)'
  | 'node-redis'
  | 'bentocache'
  | 'cacheable'
  | 'cache-manager'
  | 'lru-cache'
  | 'ioredis'
  | 'ioredis (no pipelining)'
