import type { ValueSchema } from '../config/entity-policy.js'
import { decodeEnvelope, type Envelope } from '../l2/envelope.js'
import { decompressEnvelope } from '../l2/envelope-compression.js'
import { zstdAvailable } from '../util/compression.js'
import type { Candidate } from './candidate.js'
import type { EntityCore } from './entity-core.js'
import { acceptL2Hit } from './l1-fill.js'

/** What reading one L2 entry gave: a decoded value, nothing usable, or no answer from L2. */
export type RemoteRead = { status: 'hit'; candidate: Candidate; raw: string } | { status: 'miss' } | { status: 'error' }

const MISS: RemoteRead = Object.freeze({ status: 'miss' })

/** Reads and decodes the L2 entry of `id`; an L2 failure is recorded and reads as `error`. */
export async function readRemote(core: EntityCore, id: string): Promise<RemoteRead> {
  let raw: string | null
  try {
    raw = await (core.l2 as NonNullable<EntityCore['l2']>).get(core.keys.valueKey(id))
  } catch (error) {
    core.l2Failures.failed('get', error)
    return { status: 'error' }
  }
  return parseRemote(core, id, raw)
}

/**
 * Reads `id` from L2 and, when the value there is fresh, takes it as an L2 hit (counted, put
 * into L1); `undefined` otherwise.
 */
export async function freshFromRemote(core: EntityCore, id: string, startEpoch: number): Promise<Candidate | undefined> {
  const remote = await readRemote(core, id)
  if (remote.status !== 'hit' || remote.candidate.freshUntil <= core.ctx.clock.now()) return undefined
  acceptL2Hit(core, id, remote.candidate, startEpoch)
  return remote.candidate
}

/**
 * Decodes a raw L2 entry. `replicaKey` is set when `raw` was read from a hot key's replica
 * rather than the value key. Synchronous for untagged entries: the L2 hit path should not pay
 * for an await it does not need.
 */
export function parseRemote(core: EntityCore, id: string, raw: string | null, replicaKey?: string): RemoteRead | Promise<RemoteRead> {
  if (raw === null) return MISS
  const stored = typeof raw === 'string' ? decodeEnvelope(raw) : undefined
  if (stored === undefined) {
    // A replica that is not an envelope is a tombstone left by an invalidation: a plain miss.
    return replicaKey === undefined ? dropCorrupt(core, id, 'not a tiercache envelope of this version') : MISS
  }
  let envelope: Envelope = stored
  if (stored.codec !== undefined) {
    // Every instance reads compressed entries, whatever its own `compress` option. A zstd entry
    // on a runtime without zstd is not corrupt (a newer Node wrote it): a miss, left in place;
    // the reload that follows replaces it.
    if (stored.codec === 'zstd' && !zstdAvailable()) {
      core.log.warn({ id, key: replicaKey ?? core.keys.valueKey(id) }, 'entry in L2 compressed with zstd, which this Node lacks; reloaded')
      return MISS
    }
    try {
      envelope = decompressEnvelope(stored, core.policy.maxValueBytes)
    } catch {
      return replicaKey === undefined ? dropCorrupt(core, id, 'the compressed payload does not decompress') : MISS
    }
  }
  let value: unknown
  if (envelope.kind === 'n') value = null
  else if (envelope.kind === 'u') value = undefined
  else {
    try {
      value = core.ctx.serializer.deserialize(envelope.payload)
    } catch {
      return replicaKey === undefined ? dropCorrupt(core, id, 'the payload does not deserialize') : MISS
    }
    // A value of an older shape (a deploy changed it) is reloaded rather than handed out.
    if (core.policy.schema !== null && !matchesSchema(core.policy.schema, value)) {
      return dropMismatch(core, id, replicaKey ?? core.keys.valueKey(id))
    }
  }
  const hit: RemoteRead = {
    status: 'hit',
    raw,
    candidate: {
      value,
      createdAt: envelope.createdAt,
      freshUntil: envelope.freshUntil,
      staleUntil: envelope.staleUntil,
      loadMs: envelope.loadMs,
      tags: envelope.tags,
      l1TtlMs: envelope.l1TtlMs,
      size: envelope.payload.length,
    },
  }
  return envelope.tags.length === 0 ? hit : checkTags(core, hit, envelope.tags, envelope.createdAt)
}

/** A tagged entry is a miss when one of its tags was invalidated after it was created. */
async function checkTags(core: EntityCore, hit: RemoteRead, tags: readonly string[], createdAt: number): Promise<RemoteRead> {
  try {
    return (await core.ctx.tagStamps.invalidates(tags, createdAt)) ? MISS : hit
  } catch (error) {
    core.l2Failures.failed('getTagStamps', error)
    return { status: 'error' }
  }
}

/**
 * Removes a corrupt or foreign entry and reads as a miss once it is gone: the reload that
 * follows writes the key again, and a removal still in flight could delete the new value.
 */
async function dropCorrupt(core: EntityCore, id: string, why: string): Promise<RemoteRead> {
  core.counters.corruptEntries++
  const key = core.keys.valueKey(id)
  core.log.warn({ id, key, why }, 'corrupt entry in L2 removed')
  const l2 = core.l2 as NonNullable<EntityCore['l2']>
  await core.l2Failures.attempt('delete', () => l2.delete([key]))
  return MISS
}

/** Like {@link dropCorrupt}, for a value of another shape than the entity's schema. */
async function dropMismatch(core: EntityCore, id: string, key: string): Promise<RemoteRead> {
  core.counters.schemaMismatches++
  core.log.warn({ id, key }, 'entry in L2 does not match the entity schema; removed and reloaded')
  const l2 = core.l2 as NonNullable<EntityCore['l2']>
  await core.l2Failures.attempt('delete', () => l2.delete([key]))
  return MISS
}

/** A schema that throws counts as a mismatch: a broken check must not hand out unchecked values. */
function matchesSchema(schema: ValueSchema, value: unknown): boolean {
  try {
    return schema.safeParse(value).success === true
  } catch {
    return false
  }
}
