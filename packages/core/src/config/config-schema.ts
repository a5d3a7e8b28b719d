import { z } from 'zod'
import type { RemoteStore } from '../l2/remote-store.js'
import type { Clock, RandomSource } from '../util/clock.js'
import { systemClock } from '../util/clock.js'
import { tryParseDuration } from '../util/duration.js'
import { TierCacheError } from '../util/errors.js'
import type { Logger } from '../util/logger.js'
import { silentLogger } from '../util/logger.js'
import type { Serializer } from '../util/serializer.js'
import { jsonSerializer } from '../util/serializer.js'
import type { EntityPolicy, HotKeyPolicy, TagsOf, ValueSchema } from './entity-policy.js'
import { NAME_PATTERN } from './name-pattern.js'

const DURATION_HINT = "a duration (milliseconds as a number >= 0, or a string like '500ms', '30s', '10m', '1h')"

/** A duration (ms or `'30s'`) in a schema: parsed into whole ms, or an issue saying what a duration looks like. */
export const duration = z.unknown().transform((input, ctx) => {
  const ms = tryParseDuration(input)
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected ${DURATION_HINT}, got ${describe(input)}` })
    return z.NEVER
  }
  return ms
})

const positiveDuration = duration.refine((ms) => ms > 0, { message: 'expected a duration greater than 0' })

const count = z.number().int().positive()

const name = z.string().regex(NAME_PATTERN, 'expected 1 to 64 letters, digits, "_", "-" or "."')

const l1EntitySchema = z.strictObject({
  /** Longest time an entry is served from L1 without asking L2. */
  ttl: positiveDuration.optional(),
  maxEntries: count.optional(),
  maxBytes: count.optional(),
})

const hotSchema = z.strictObject({
  keys: z
    .union([z.array(z.string()), z.custom<(id: string) => boolean>((v) => typeof v === 'function', 'expected a function (id) => boolean')])
    .optional(),
  replicas: z.number().int().min(0).max(64).optional(),
  l1Ttl: duration.optional(),
  threshold: z
    .strictObject({
      rate: z.number().positive().optional(),
      share: z.number().gt(0).max(1).optional(),
    })
    .optional(),
  window: positiveDuration.optional(),
  capacity: z.number().int().min(8).max(100_000).optional(),
  sampleEvery: z.number().int().min(1).max(1024).optional(),
})

const entitySchema = z.strictObject({
  ttl: positiveDuration,
  l1: z.union([z.literal(false), l1EntitySchema]).optional(),
  jitter: z.number().min(0).max(1).optional(),
  negativeTtl: z.union([z.literal(false), duration]).optional(),
  grace: duration.optional(),
  maxValueBytes: count.optional(),
  tags: z.custom<TagsOf>((v) => typeof v === 'function', 'expected a function (id, value) => string[]').optional(),
  softTimeout: duration.optional(),
  hardTimeout: positiveDuration.optional(),
  beta: z.number().min(0).max(100).optional(),
  lockTtl: positiveDuration.optional(),
  lockWait: duration.optional(),
  hot: z.union([z.literal(false), hotSchema]).optional(),
  l2Timeout: positiveDuration.optional(),
  // Structural on purpose: the user's zod (any version) or another validator fits, and core
  // never depends on the user's schema types.
  schema: z
    .custom<ValueSchema>(
      (v) => typeof v === 'object' && v !== null && typeof (v as Record<string, unknown>).safeParse === 'function',
      'expected a schema with safeParse(value) returning { success } (e.g. a zod schema)',
    )
    .optional(),
})

const remoteStore = z.custom<RemoteStore>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    ['get', 'getMany', 'set', 'delete'].every((m) => typeof (v as Record<string, unknown>)[m] === 'function'),
  'expected a RemoteStore (e.g. redisClusterStore(...) from @tiercache/redis)',
)

const logger = z.custom<Logger>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    ['debug', 'info', 'warn', 'error', 'child'].every((m) => typeof (v as Record<string, unknown>)[m] === 'function'),
  'expected a pino-compatible logger (debug, info, warn, error, child)',
)

const serializer = z.custom<Serializer>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    typeof (v as Serializer).serialize === 'function' &&
    typeof (v as Serializer).deserialize === 'function',
  'expected a serializer { serialize(value): string, deserialize(text): unknown }',
)

const clock = z.custom<Clock>(
  (v) => typeof v === 'object' && v !== null && typeof (v as Clock).now === 'function',
  'expected a clock { now(): number }',
)

/** The zod schema of `createCache` options. Exported for tools that want to validate config files. */
export const cacheOptionsSchema = z.strictObject({
  namespace: name,
  l1: z
    .strictObject({
      maxEntries: count.optional(),
      maxBytes: count.optional(),
      ttl: positiveDuration.optional(),
    })
    .optional(),
  l2: remoteStore.optional(),
  bus: z.boolean().optional(),
  l2Timeout: positiveDuration.optional(),
  durableInvalidation: z.boolean().optional(),
  breaker: z
    .union([
      z.literal(false),
      z.strictObject({
        failures: z.number().int().positive().optional(),
        coolDown: positiveDuration.optional(),
        probes: z.number().int().positive().optional(),
      }),
    ])
    .optional(),
  entities: z.record(name, entitySchema),
  logger: logger.optional(),
  serializer: serializer.optional(),
  maxValueBytes: count.optional(),
  clock: clock.optional(),
  random: z.custom<RandomSource>((v) => typeof v === 'function', 'expected a function returning [0, 1)').optional(),
  /** Tracing channels (`tiercache:get` ...): `ids: true` puts ids in their context objects. Default `{ ids: false }`. */
  tracing: z.strictObject({ ids: z.boolean().optional() }).optional(),
})

/** Options of one entity, as users write them. */
export type EntityOptions = z.input<typeof entitySchema>

/** Options of `createCache`, as users write them. */
export type CacheOptions = z.input<typeof cacheOptionsSchema>

/** Defaults, in one place next to the schema. */
export const DEFAULTS = {
  /** L1 entries per entity. */
  l1MaxEntries: 10_000,
  /** With an L2, the longest an L1 entry is trusted without asking L2 (ms): the bound on staleness when the bus is down. */
  l1TtlWithL2Ms: 60_000,
  /** Largest cached value (bytes). */
  maxValueBytes: 1024 * 1024,
  jitter: 0,
  graceMs: 0,
  /** XFetch beta (Vattani et al. recommend 1). */
  beta: 1,
  /** Lock TTL when the entity has no hard timeout (ms). */
  lockTtlMs: 10_000,
  /** Hot keys: replicas in L2 (capped by the number of masters), L1 TTL, rate threshold (reads/s), window, counters. */
  hotReplicas: 8,
  hotL1TtlMs: 1_000,
  hotRate: 1_000,
  hotWindowMs: 2_000,
  hotCapacity: 256,
  /** One read in this many feeds the detector (keeps the L1 hit path cheap). */
  hotSampleEvery: 16,
  /** Per-call L2 timeout (ms). */
  l2TimeoutMs: 50,
  /** Circuit breaker: consecutive failures that open it, cool-down (ms), probe calls that close it. */
  breakerFailures: 5,
  breakerCoolDownMs: 500,
  breakerProbes: 3,
} as const

/** `createCache` options after validation and defaulting: what the engine runs on. */
export interface ResolvedCacheOptions {
  readonly namespace: string
  readonly l2: RemoteStore | null
  /** Whether instances tell each other about invalidations (on by default with an L2). */
  readonly bus: boolean
  /** Per-call L2 timeout (ms) for calls that belong to no entity (tags, bus). */
  readonly l2TimeoutMs: number
  /**
   * Whether `invalidate()` waits until a replica of each key's shard confirms the deletion, when
   * the store can (`RemoteStore.deleteDurably`); unconfirmed deletions are applied again after
   * the shard's next topology change. Default true.
   */
  readonly durableInvalidation: boolean
  /** The L2 circuit breaker; `failures: Infinity` when turned off. */
  readonly breaker: { failures: number; coolDownMs: number; probes: number }
  readonly entities: ReadonlyMap<string, EntityPolicy>
  readonly logger: Logger
  readonly serializer: Serializer
  readonly clock: Clock
  readonly random: RandomSource
  /** Whether tracing channel contexts carry ids (`tracing.ids`, default false: ids can be user data). */
  readonly traceIds: boolean
}

/**
 * Validates `createCache` options and resolves them into plain, fully defaulted objects.
 * Throws `INVALID_CONFIG` naming the path of the first bad field and what was expected.
 */
export function resolveCacheOptions(input: unknown): ResolvedCacheOptions {
  const parsed = cacheOptionsSchema.safeParse(input)
  if (!parsed.success) throw configError(parsed.error.issues)
  const options = parsed.data
  const l2 = options.l2 ?? null
  const entities = new Map<string, EntityPolicy>()
  for (const [entityName, entity] of Object.entries(options.entities)) {
    const ttlMs = entity.ttl
    // The lock lives as long as a load may: a holder that dies frees it after the hard timeout at most.
    const lockTtlMs = Math.min(entity.lockTtl ?? DEFAULTS.lockTtlMs, entity.hardTimeout ?? Number.POSITIVE_INFINITY)
    let l1: EntityPolicy['l1'] = null
    if (entity.l1 !== false) {
      const defaultL1Ttl = options.l1?.ttl ?? (l2 === null ? ttlMs : Math.min(ttlMs, DEFAULTS.l1TtlWithL2Ms))
      l1 = {
        ttlMs: Math.min(entity.l1?.ttl ?? defaultL1Ttl, ttlMs),
        maxEntries: entity.l1?.maxEntries ?? options.l1?.maxEntries ?? DEFAULTS.l1MaxEntries,
        maxBytes: entity.l1?.maxBytes ?? options.l1?.maxBytes ?? 0,
      }
    }
    entities.set(entityName, {
      name: entityName,
      ttlMs,
      jitter: entity.jitter ?? DEFAULTS.jitter,
      negativeTtlMs: entity.negativeTtl === false ? 0 : (entity.negativeTtl ?? ttlMs),
      graceMs: entity.grace ?? DEFAULTS.graceMs,
      l1,
      maxValueBytes: entity.maxValueBytes ?? options.maxValueBytes ?? DEFAULTS.maxValueBytes,
      tags: entity.tags ?? null,
      softTimeoutMs: entity.softTimeout ?? 0,
      hardTimeoutMs: entity.hardTimeout ?? Number.POSITIVE_INFINITY,
      beta: entity.beta ?? DEFAULTS.beta,
      lockTtlMs,
      lockWaitMs: entity.lockWait ?? 2 * lockTtlMs,
      hot: resolveHot(entity.hot),
      l2TimeoutMs: entity.l2Timeout ?? options.l2Timeout ?? DEFAULTS.l2TimeoutMs,
      schema: entity.schema ?? null,
    })
  }
  return {
    namespace: options.namespace,
    l2,
    bus: l2 !== null && options.bus !== false,
    l2TimeoutMs: options.l2Timeout ?? DEFAULTS.l2TimeoutMs,
    durableInvalidation: options.durableInvalidation !== false,
    breaker:
      options.breaker === false
        ? { failures: Number.POSITIVE_INFINITY, coolDownMs: 0, probes: 1 }
        : {
            failures: options.breaker?.failures ?? DEFAULTS.breakerFailures,
            coolDownMs: options.breaker?.coolDown ?? DEFAULTS.breakerCoolDownMs,
            probes: options.breaker?.probes ?? DEFAULTS.breakerProbes,
          },
    entities,
    logger: options.logger ?? silentLogger,
    serializer: options.serializer ?? jsonSerializer,
    clock: options.clock ?? systemClock,
    random: options.random ?? Math.random,
    traceIds: options.tracing?.ids ?? false,
  }
}

function resolveHot(hot: z.output<typeof hotSchema> | false | undefined): HotKeyPolicy | null {
  if (hot === false) return null
  const keys = hot?.keys
  const declaredSet = Array.isArray(keys) ? new Set(keys) : null
  return {
    declared: typeof keys === 'function' ? keys : declaredSet !== null ? (id) => declaredSet.has(id) : () => false,
    replicas: hot?.replicas ?? DEFAULTS.hotReplicas,
    l1TtlMs: hot?.l1Ttl ?? DEFAULTS.hotL1TtlMs,
    rate: hot?.threshold?.rate ?? DEFAULTS.hotRate,
    share: hot?.threshold?.share ?? null,
    windowMs: hot?.window ?? DEFAULTS.hotWindowMs,
    capacity: hot?.capacity ?? DEFAULTS.hotCapacity,
    sampleEvery: hot?.sampleEvery ?? DEFAULTS.hotSampleEvery,
  }
}

/** Turns zod issues into one `INVALID_CONFIG` error whose message names each bad field's path. */
export function configError(issues: readonly z.core.$ZodIssue[], root = 'options'): TierCacheError {
  return new TierCacheError('INVALID_CONFIG', describeIssues(issues, root))
}

/** The text of {@link configError}: each bad field's path under `root` and what was expected, joined with `; `. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], root: string): string {
  return issues.flatMap((issue) => issueLines(issue, [root])).join('; ')
}

// Issues at the root of a union branch that mean "the input is not of this branch's kind".
const KIND_MISMATCH = new Set(['invalid_type', 'invalid_value', 'custom', 'invalid_union'])

function issueLines(issue: z.core.$ZodIssue, base: readonly string[]): string[] {
  const at = [...base, ...issue.path.map(String)]
  const path = at.join('.')
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    // zod only says "Invalid input" for a union. When the input is of one branch's kind (an object
    // for `false | { ... }`), that branch's own issues say what is wrong, deeper in the path;
    // otherwise every branch's expectation together does.
    const ofItsKind = issue.errors.find((branch) => branch.every((i) => i.path.length > 0 || !KIND_MISMATCH.has(i.code)))
    if (ofItsKind !== undefined) return ofItsKind.flatMap((i) => issueLines(i, at))
    const expected = issue.errors.map((branch) => branch.map(expectation).join(' and ')).join(' or ')
    const received = issue.errors.flat().find((i) => i.code === 'invalid_type' && i.path.length === 0)
    const kind = received === undefined ? undefined : /received (\w+)/.exec(received.message)?.[1]
    return [`${path}: expected ${expected}${kind === undefined ? '' : `, received ${kind}`}`]
  }
  if (issue.code === 'unrecognized_keys') {
    return [`${path}: unknown option${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`]
  }
  if (issue.code === 'invalid_key') return [`${path}: ${issue.issues[0]?.message ?? issue.message}`]
  return [`${path}: ${issue.message}`]
}

/** What one union branch wanted, in words: `false`, `object`, or a custom check's own message. */
function expectation(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_value') return issue.values.map((v) => JSON.stringify(v)).join(' or ')
  if (issue.code === 'invalid_type') return String(issue.expected)
  return issue.message.replace(/^expected /, '')
}

function describe(input: unknown): string {
  if (typeof input === 'string') return JSON.stringify(input)
  if (typeof input === 'number') return String(input)
  if (input === undefined) return 'nothing'
  return input === null ? 'null' : typeof input
}
