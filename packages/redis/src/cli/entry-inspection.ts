import { type CompressionCodec, decodeEnvelope, decompressEnvelope, type Envelope, KeyBuilder, zstdAvailable } from '@tiercache/core'
import { keySlot, TOMBSTONE } from '@tiercache/redis-common'
import type { Cluster, Redis } from 'ioredis'
import type { RedisRemoteStore } from '../redis-remote-store.js'

/** An entry's envelope as `tiercache get` shows it; times in ms since the epoch (the writer's clock). */
export interface EnvelopeFields {
  /** `value`; `null` or `undefined` when the loader returned that (cached for `negativeTtl`). */
  kind: 'value' | 'null' | 'undefined'
  createdAt: number
  freshUntil: number
  staleUntil: number
  /** How long the load took, ms. */
  loadMs: number
  tags: readonly string[]
  /** The serialized value's size in UTF-8 bytes (decompressed when it is stored compressed). */
  payloadBytes: number
  /** The serialized value, as the services' serializer wrote it (decompressed). */
  payload: string
  /** How the value is stored compressed (codec, and bytes of its base64 in Redis), or `null` when it is not. */
  compressed: { codec: CompressionCodec; bytes: number } | null
  /** At the time of reading: `fresh` (before freshUntil), `stale` (servable within grace) or `expired`. */
  status: 'fresh' | 'stale' | 'expired'
}

/** One hot-key copy found in L2. */
export interface ReplicaFact {
  key: string
  /** The master (`host:port`) holding it. */
  master: string
  /** `copy`: an envelope; `tombstone`: left by an invalidation (blocks late copies); `corrupt`: anything else. */
  state: 'copy' | 'tombstone' | 'corrupt'
  /** Remaining Redis TTL, ms. */
  ttlMs: number
  /** The copy's `createdAt` (equal to the value's when it is up to date). */
  createdAt?: number
}

/** What `tiercache get` found for one id. */
export interface EntryReport {
  namespace: string
  entity: string
  id: string
  key: string
  /** The key's hash slot (cluster) and the master (`host:port`) that holds it. */
  slot: number
  master: string
  /** `entry`: a tiercache envelope; `missing`: no key; `corrupt`: something that is not an envelope of this version. */
  state: 'entry' | 'missing' | 'corrupt'
  /** Remaining Redis TTL, ms (`null` when the key has none, or is missing). */
  ttlMs: number | null
  /** Bytes Redis stores for the value (the whole envelope); `null` when missing or not a string. */
  sizeBytes: number | null
  envelope?: EnvelopeFields
  /** Why a `corrupt` entry is not one: its Redis type and the start of what it holds. */
  corrupt?: { type: string; reason: string; preview: string }
  /** The load lock (lease) of the key: held while some instance loads it. */
  lease: { held: boolean; ttlMs: number | null }
  /** Hot-key copies found (one candidate key per master is checked). */
  replicas: ReplicaFact[]
  /** How many candidate copy keys were checked. */
  replicaCandidates: number
  /** When it was read, ms since the epoch (this machine's clock). */
  readAt: number
}

// Candidates looked at: one per master (the services' copies are the first `replicas` of them).
const ALL_MASTERS = 64
const PREVIEW_CHARS = 80
// The largest value a compressed entry may inflate to here: Redis's own largest string.
const MAX_DECOMPRESSED_BYTES = 512 * 1024 * 1024

/**
 * Reads one entry and everything around it, read-only (nothing is deleted, unlike a cache read of
 * a corrupt entry): the value key's type, content and `PTTL`, its lease, and the hot-key copy
 * candidates of every master.
 */
export async function inspectEntry(store: RedisRemoteStore, namespace: string, entity: string, id: string): Promise<EntryReport> {
  const client = store.client
  const keys = new KeyBuilder(namespace, entity)
  const key = keys.valueKey(id)
  const lockKey = keys.lockKey(id)
  const [type, ttl, lockTtl] = await Promise.all([client.type(key), client.pttl(key), client.pttl(lockKey)])
  // GET of another type fails (WRONGTYPE): only strings are read.
  const raw = type === 'string' ? await client.get(key) : null
  const readAt = Date.now()
  const report: EntryReport = {
    namespace,
    entity,
    id,
    key,
    slot: keySlot(key),
    master: masterOf(store, key),
    state: 'missing',
    ttlMs: ttl >= 0 ? ttl : null,
    sizeBytes: null,
    lease: { held: lockTtl !== -2, ttlMs: lockTtl >= 0 ? lockTtl : null },
    replicas: [],
    replicaCandidates: 0,
    readAt,
  }
  if (type !== 'none') {
    const stored = raw === null ? undefined : decodeEnvelope(raw)
    const envelope = stored === undefined ? undefined : decompressed(stored)
    if (raw !== null) report.sizeBytes = Buffer.byteLength(raw)
    if (stored === undefined || envelope === undefined) {
      report.state = 'corrupt'
      report.corrupt =
        type !== 'string'
          ? { type, reason: `a Redis ${type}, not a string`, preview: '' }
          : stored === undefined
            ? { type, reason: 'not a tiercache envelope of this version', preview: (raw ?? '').slice(0, PREVIEW_CHARS) }
            : {
                type,
                reason:
                  stored.codec === 'zstd' && !zstdAvailable()
                    ? `compressed with zstd, which this Node (${process.versions.node}) lacks; a cache read on such a Node reloads it`
                    : `the ${stored.codec} compressed payload does not decompress`,
                preview: (raw ?? '').slice(0, PREVIEW_CHARS),
              }
    } else {
      report.state = 'entry'
      report.envelope = {
        kind: envelope.kind === 'v' ? 'value' : envelope.kind === 'n' ? 'null' : 'undefined',
        createdAt: envelope.createdAt,
        freshUntil: envelope.freshUntil,
        staleUntil: envelope.staleUntil,
        loadMs: envelope.loadMs,
        tags: envelope.tags,
        payloadBytes: Buffer.byteLength(envelope.payload),
        payload: envelope.payload,
        compressed: stored.codec === undefined ? null : { codec: stored.codec, bytes: Buffer.byteLength(stored.payload) },
        status: readAt < envelope.freshUntil ? 'fresh' : readAt < envelope.staleUntil ? 'stale' : 'expired',
      }
    }
  }
  // On one shard copies exist only for services reading hot keys from replica nodes, under candidate 0.
  let candidates = store.spreadKeys((n) => keys.replicaKey(id, n), ALL_MASTERS)
  if (candidates.length === 0 && store.name !== 'redis-cluster') candidates = [keys.replicaKey(id, 0)]
  report.replicaCandidates = candidates.length
  const copies = await Promise.all(
    candidates.map(async (copyKey) => ({ copyKey, raw: await client.get(copyKey), ttl: await client.pttl(copyKey) })),
  )
  for (const { copyKey, raw: copy, ttl: copyTtl } of copies) {
    if (copy === null) continue
    const decoded = decodeEnvelope(copy)
    report.replicas.push({
      key: copyKey,
      master: masterOf(store, copyKey),
      state: copy === TOMBSTONE ? 'tombstone' : decoded === undefined ? 'corrupt' : 'copy',
      ttlMs: copyTtl,
      ...(decoded === undefined ? {} : { createdAt: decoded.createdAt }),
    })
  }
  return report
}

/** The master holding `key`: from the cluster's slot map, or the one server's address. */
/** The envelope with its payload decompressed, or `undefined` when it does not decompress. */
function decompressed(envelope: Envelope): Envelope | undefined {
  try {
    return decompressEnvelope(envelope, MAX_DECOMPRESSED_BYTES)
  } catch {
    return undefined
  }
}

function masterOf(store: RedisRemoteStore, key: string): string {
  if (store.name === 'redis-cluster') return (store.client as Cluster).slots[keySlot(key)]?.[0] ?? 'unknown'
  const stream = (store.client as Redis).stream
  return stream?.remoteAddress === undefined ? 'unknown' : `${stream.remoteAddress}:${stream.remotePort}`
}
