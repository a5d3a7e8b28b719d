import type { RandomSource } from '../util/clock.js'

/** Computes the tags of an entry from its id and loaded value. */
export type TagsOf = (id: string, value: unknown) => readonly string[]

/**
 * Checks the shape of a value read from L2: anything with `safeParse(value)` answering
 * `{ success: boolean }`, such as a zod schema. Only `success` is used; the cached value itself
 * is returned, never the schema's parsed output.
 */
export interface ValueSchema {
  safeParse(value: unknown): { success: boolean }
}

/**
 * The fully resolved policy of one entity: every option defaulted, every duration in ms.
 * Built once by `createCache`; the read path reads it and never re-validates.
 */
export interface EntityPolicy {
  readonly name: string
  /** How long a loaded value is fresh (ms). */
  readonly ttlMs: number
  /** Fraction (0..1) by which each TTL is randomly shortened, so entries loaded together do not expire together. */
  readonly jitter: number
  /** How long an absent result (`null`/`undefined`) is cached (ms); 0 turns negative caching off. */
  readonly negativeTtlMs: number
  /** How long past its TTL a value may still be served stale (ms). */
  readonly graceMs: number
  /** The in-process tier, or `null` when the entity has none. */
  readonly l1: L1Policy | null
  /** Largest serialized value cached (bytes, UTF-8); larger values are returned but not cached. */
  readonly maxValueBytes: number
  /** The tags of an entry, or `null` when the entity does not tag entries. */
  readonly tags: TagsOf | null
  /** With a stale value at hand, how long a refresh may take before the stale value is returned (ms); 0 returns it at once. */
  readonly softTimeoutMs: number
  /** How long a load may take before it fails with `LOADER_TIMEOUT` (ms); `Infinity` for no limit. */
  readonly hardTimeoutMs: number
  /** XFetch's beta: larger refreshes earlier; 0 turns early refresh off. */
  readonly beta: number
  /** TTL of the fleet-wide load lock (ms): a lock whose holder died frees itself after it. */
  readonly lockTtlMs: number
  /** How long a reader waits for another instance's load before loading itself (ms). */
  readonly lockWaitMs: number
  /** Per-call timeout of L2 calls for this entity (ms); a call past it is a miss or a counted failure. */
  readonly l2TimeoutMs: number
  /** Hot-key handling, or `null` when it is off for the entity. */
  readonly hot: HotKeyPolicy | null
  /** The shape every value read from L2 must have, or `null` to trust L2 as it is. */
  readonly schema: ValueSchema | null
}

/** The resolved hot-key policy of one entity. */
export interface HotKeyPolicy {
  /** Keys declared hot up front, whatever their traffic. */
  readonly declared: (id: string) => boolean
  /** Replicas of a hot key in L2, each on a different master; 0 turns replication off. */
  readonly replicas: number
  /** L1 TTL of a hot key (ms), also for entities without L1; 0 turns L1 promotion off. */
  readonly l1TtlMs: number
  /** Reads per second (in this instance) that make a key hot. */
  readonly rate: number
  /** Share (0..1] of the entity's reads that makes a key hot, or `null`. */
  readonly share: number | null
  /** Sliding window of the detector (ms). */
  readonly windowMs: number
  /** Counters the detector keeps (the memory bound). */
  readonly capacity: number
  /** One read in this many is counted (1 counts every read). */
  readonly sampleEvery: number
}

/** The resolved in-process tier of one entity. */
export interface L1Policy {
  /** Longest time an entry is served from L1 without asking L2 (ms). */
  readonly ttlMs: number
  readonly maxEntries: number
  /** Bound on the summed serialized size of the entries (bytes), or 0 for none. */
  readonly maxBytes: number
}

/**
 * The fresh lifetime of one new entry: the policy's TTL (or negative TTL for an absent
 * value), or `ttlMs` when the loader chose one, shortened by up to `jitter` of itself at random.
 * Jitter only ever shortens, so the TTL stays the upper bound on how long a value is fresh.
 */
export function freshLifetimeMs(policy: EntityPolicy, absent: boolean, random: RandomSource, ttlMs: number | null = null): number {
  const base = ttlMs ?? (absent ? policy.negativeTtlMs : policy.ttlMs)
  if (policy.jitter === 0 || base === 0) return base
  return Math.max(1, Math.round(base * (1 - policy.jitter * random())))
}
