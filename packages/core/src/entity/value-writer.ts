import { freshLifetimeMs } from '../config/entity-policy.js'
import { type Envelope, encodeEnvelope } from '../l2/envelope.js'
import { isValidTag } from '../l2/key-builder.js'
import { TierCacheError } from '../util/errors.js'
import { serializeOrThrow } from '../util/serializer.js'
import type { Candidate } from './candidate.js'
import type { EntityCore } from './entity-core.js'
import { writeReplicas } from './hot-replicas.js'
import { fillL1 } from './l1-fill.js'
import type { Lease, WriteOutcome } from './lease.js'
import { declined, type ValueDecision } from './value-policy.js'

/**
 * How a value reaches L2: under the lease this load holds (written only while it stands),
 * plainly (`set`, which overrides whatever is there), or not at all (L1 only: L2 failed, or a
 * load that has no lease to write under).
 */
export type L2Write = { readonly kind: 'lease'; readonly lease: Lease } | { readonly kind: 'plain' } | { readonly kind: 'none' }

/** Write to L2 without a lease. */
export const PLAIN_WRITE: L2Write = Object.freeze({ kind: 'plain' })
/** Keep the value in L1 only. */
export const NO_L2_WRITE: L2Write = Object.freeze({ kind: 'none' })

/** One value to write, with where it came from. */
export interface WriteRequest {
  readonly id: string
  /** The value as loaded (or as passed to `set`). */
  readonly value: unknown
  /** How long the load took (ms); 0 for `set`. */
  readonly loadMs: number
  /** Clock ms when the load started (the entry's `createdAt`, compared with tag stamps). */
  readonly startedAt: number
  /** The invalidation epoch when the read started: an older load does not fill L1. */
  readonly startEpoch: number
  readonly l2: L2Write
  /** What the loader decided about this value through its context (`ENTITY_POLICY` when it decided nothing). */
  readonly policy: ValueDecision
}

/** The cache's copy of the value (what callers get) and what happened to the lease. */
export interface WriteResult {
  readonly value: unknown
  /** For `lease` writes, whether the lease was spent; `not-written` for the other kinds when L2 was not written. */
  readonly outcome: WriteOutcome
}

/**
 * Caches a loaded value and returns the cache's copy of it: serialized, size-checked, tagged,
 * written to L2 as `request.l2` says, copied to hot-key replicas, put into L1. A value that
 * cannot be cached (not serializable, too large, absent with negative caching off, tags that
 * fail) is returned as loaded and `not-written`. A lost lease means an invalidation raced this
 * load, so neither L2 nor L1 takes the value. The writer never releases a lease: the caller's
 * {@link holdingLeases} does, from the outcome.
 */
export async function writeValue(core: EntityCore, request: WriteRequest): Promise<WriteResult> {
  const { id, value, policy } = request
  if (policy.kind !== 'cache') return declined(core, id, value, policy)
  const absent = value === null || value === undefined
  const freshMs = freshLifetimeMs(core.policy, absent, core.ctx.random, policy.ttlMs)
  let payload = ''
  let copy: unknown = value
  if (freshMs > 0 && !absent) {
    try {
      payload = serializeOrThrow(core.ctx.serializer, value, `entity "${core.name}" id "${id}": the loaded value`, {
        entity: core.name,
        id,
      })
      const size = Buffer.byteLength(payload, 'utf8')
      if (size > core.policy.maxValueBytes) {
        throw new TierCacheError(
          'VALUE_TOO_LARGE',
          `entity "${core.name}" id "${id}": the value is ${size} bytes serialized, over maxValueBytes ${core.policy.maxValueBytes}; it was returned but not cached`,
          { entity: core.name, id },
        )
      }
      copy = core.ctx.serializer.deserialize(payload)
    } catch (error) {
      core.counters.uncacheableValues++
      core.log.warn({ err: error, id }, 'value not cached')
      return { value, outcome: 'not-written' }
    }
  }
  if (freshMs === 0) return { value, outcome: 'not-written' }
  const tags = policy.tags ?? tagsOf(core, id, copy)
  if (tags === undefined) return { value: copy, outcome: 'not-written' }
  const now = core.ctx.clock.now()
  const envelope: Envelope = {
    kind: value === null ? 'n' : value === undefined ? 'u' : 'v',
    payload,
    createdAt: Math.min(request.startedAt, now),
    freshUntil: now + freshMs,
    staleUntil: now + freshMs + (policy.graceMs ?? core.policy.graceMs),
    loadMs: request.loadMs,
    tags,
  }
  const candidate: Candidate = { value: copy, ...envelope, size: payload.length }
  let outcome: WriteOutcome = 'not-written'
  const l2 = core.l2
  if (l2 !== null && request.l2.kind !== 'none') {
    const raw = encodeEnvelope(envelope)
    const ttlMs = envelope.staleUntil - now
    const key = core.keys.valueKey(id)
    if (request.l2.kind === 'lease') {
      const lease = request.l2.lease
      try {
        outcome = (await l2.setIfLeaseHeld(key, lease.lockKey, lease.token, raw, ttlMs)) ? 'written' : 'lease-lost'
      } catch (error) {
        core.l2Failures.failed('setIfLeaseHeld', error)
      }
      if (outcome !== 'written') {
        core.log.debug({ id }, 'lease lost to an invalidation; the loaded value is returned but not cached')
        return { value: copy, outcome }
      }
    } else if (await core.l2Failures.attempt('set', () => l2.set(key, raw, ttlMs))) {
      outcome = 'written'
    }
    if (core.hot?.replicates && core.hot.isHot(id)) {
      void writeReplicas(core, id, raw, candidate, now, core.hot.replicaKeys(id), request.startEpoch)
    }
  }
  fillL1(core, id, candidate, request.startEpoch, policy.l1TtlMs)
  return { value: copy, outcome }
}

/** The tags of a value, or `undefined` (counted, logged) when `tags()` throws or returns something else than tags. */
function tagsOf(core: EntityCore, id: string, copy: unknown): readonly string[] | undefined {
  try {
    const tags = core.policy.tags?.(id, copy) ?? []
    if (!Array.isArray(tags) || !tags.every(isValidTag)) {
      throw new TierCacheError(
        'INVALID_CONFIG',
        `entity "${core.name}": tags() must return an array of non-empty strings of at most 512 characters`,
        { entity: core.name, id },
      )
    }
    return tags
  } catch (error) {
    core.counters.uncacheableValues++
    core.log.warn({ err: error, id }, 'value not cached: its tags could not be computed')
    return undefined
  }
}
