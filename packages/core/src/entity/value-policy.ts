import { z } from 'zod'
import { describeIssues, duration } from '../config/config-schema.js'
import { isValidTag } from '../l2/key-builder.js'
import type { Duration } from '../util/duration.js'
import { TierCacheError } from '../util/errors.js'
import type { EntityCore } from './entity-core.js'

/**
 * What a loader may decide about the one value it just loaded, through its context
 * (`ctx.set({ ... })`). Every field is optional: a field left out keeps the entity's policy.
 */
export interface ValuePolicy {
  /**
   * How long this value is fresh (a duration; `0` caches nothing). Replaces the entity's `ttl`,
   * and its `negativeTtl` when the loader returns `null`/`undefined`. The entity's `jitter` still
   * shortens it. May be longer than the entity's `ttl`.
   */
  ttl?: Duration
  /**
   * This value's L1 TTL in the instance that loaded it (a duration), or `false` for no L1 copy
   * there; capped by the value's freshness. Other instances that read the value from L2 use their
   * entity's `l1.ttl`, still capped by the freshness `ttl` sets. Ignored by an entity without L1.
   */
  l1?: Duration | false
  /** How long past its freshness this value is served stale (a duration). Replaces the entity's `grace`. */
  grace?: Duration
  /**
   * The tags of this value, replacing what the entity's `tags(id, value)` would give. Each a
   * non-empty string of at most 512 characters. Checked on every L2 read like any entry's tags.
   */
  tags?: readonly string[]
}

/**
 * A loader's decision about one value, resolved: `cache` with what it overrides (`null` keeps
 * the entity's), `skip` (the loader declined caching it), or `invalid` (a bad `ctx.set()`, or a
 * policy hook that threw: the value is returned but not cached, and `error` is logged).
 */
export type ValueDecision =
  | {
      readonly kind: 'cache'
      /** Fresh lifetime (ms) before jitter, or `null` for the entity's `ttl` / `negativeTtl`. */
      readonly ttlMs: number | null
      /** L1 TTL (ms; 0 for no L1 copy), or `null` for the entity's. */
      readonly l1TtlMs: number | null
      /** Grace (ms), or `null` for the entity's. */
      readonly graceMs: number | null
      /** Tags, or `null` for the entity's `tags(id, value)`. */
      readonly tags: readonly string[] | null
    }
  | { readonly kind: 'skip' }
  | { readonly kind: 'invalid'; readonly error: unknown }

/** The decision of a loader that decided nothing: the entity's policy, as configured. */
export const ENTITY_POLICY: ValueDecision = Object.freeze({ kind: 'cache', ttlMs: null, l1TtlMs: null, graceMs: null, tags: null })

const valuePolicySchema = z.strictObject({
  ttl: duration.optional(),
  l1: z.union([z.literal(false), duration]).optional(),
  grace: duration.optional(),
  tags: z
    .array(z.unknown().refine(isValidTag, 'expected a non-empty string of at most 512 characters'))
    .optional()
    .transform((tags) => tags as readonly string[] | undefined),
})

/**
 * Validates one `ctx.set(policy)` and merges it over `current` (a field not given keeps its
 * value). Throws `INVALID_CONFIG` naming each bad field under `root`, with `about` on the error.
 */
export function mergeValuePolicy(
  current: Extract<ValueDecision, { kind: 'cache' }>,
  input: unknown,
  root: string,
  about: { entity: string; id: string },
): Extract<ValueDecision, { kind: 'cache' }> {
  const parsed = valuePolicySchema.safeParse(input)
  if (!parsed.success) {
    throw new TierCacheError(
      'INVALID_CONFIG',
      `entity "${about.entity}" id "${about.id}": ${describeIssues(parsed.error.issues, root)}; the value was returned but not cached`,
      about,
    )
  }
  const { ttl, l1, grace, tags } = parsed.data
  return {
    kind: 'cache',
    ttlMs: ttl ?? current.ttlMs,
    l1TtlMs: l1 === false ? 0 : (l1 ?? current.l1TtlMs),
    graceMs: grace ?? current.graceMs,
    tags: tags ?? current.tags,
  }
}

/**
 * The write of a value its loader declined (`skip`) or gave a bad policy (`invalid`: counted in
 * `uncacheableValues` and logged with its `INVALID_CONFIG`): the value goes back to its callers
 * as loaded and is written nowhere, so a lease this load holds is released, not spent.
 */
export function declined(
  core: EntityCore,
  id: string,
  value: unknown,
  decision: Exclude<ValueDecision, { kind: 'cache' }>,
): { readonly value: unknown; readonly outcome: 'not-written' } {
  if (decision.kind === 'invalid') {
    core.counters.uncacheableValues++
    core.log.warn({ err: decision.error, id }, "value not cached: its loader's policy is invalid")
  }
  return { value, outcome: 'not-written' }
}
