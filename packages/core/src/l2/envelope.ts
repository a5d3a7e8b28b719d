import type { CompressionCodec } from '../util/compression.js'

/**
 * What the remote tier holds for one entry: the value plus the times that drive freshness,
 * grace and early refresh. Times are milliseconds since the epoch on the writer's clock.
 */
export interface Envelope {
  /** `v`: a value; `n`: the loader returned `null`; `u`: it returned `undefined`. */
  kind: 'v' | 'n' | 'u'
  /**
   * The serialized value (empty for `n` and `u`); with a `codec`, that value compressed and in
   * base64 (see `compressText`).
   */
  payload: string
  /** How `payload` is compressed; absent (or `undefined`) when it is the serialized value itself. */
  codec?: CompressionCodec | undefined
  createdAt: number
  /** Fresh until this time; after it, stale. */
  freshUntil: number
  /** Servable as stale (grace) until this time; the remote copy expires then too. */
  staleUntil: number
  /** How long the load took (ms); used by early refresh (XFetch). */
  loadMs: number
  /** The L1 TTL the loader chose for this value (ms; `ctx.set({ l1 })`), absent for the entity's own. */
  l1TtlMs?: number | undefined
  tags: readonly string[]
}

// `tc1|kind|createdAt|freshUntil|staleUntil|loadMs|tagsLength|<tags JSON><payload>`.
// A positional header parses with a few indexOf calls instead of a JSON.parse of a wrapper
// object, and the payload stays in the serializer's own format: one parse per L2 hit.
//
// A compressed value is marked in the kind: `b` (brotli), `g` (gzip), `z` (zstd) instead of
// `v`, the rest of the header unchanged. Uncompressed entries stay byte for byte what they were,
// so instances with and without compression (and releases before it) read them; a release
// before compression reads a compressed entry as foreign data (a miss it removes and reloads).
//
// An entry whose loader chose its own L1 TTL is written as `tc2|`, with that TTL as one more
// header field after loadMs, so every instance that reads it keeps it in L1 no longer than the
// loader asked. Only such entries take the new header: everything else stays `tc1|`, which
// releases before it read; those releases read a `tc2|` entry as foreign data (a miss they
// remove and reload).
const MAGIC = 'tc1|'
const MAGIC_L1 = 'tc2|'
const NO_TAGS: readonly string[] = Object.freeze([])
const CODEC_KIND: Readonly<Record<CompressionCodec, string>> = { brotli: 'b', gzip: 'g', zstd: 'z' }

/** Encodes an envelope into the string stored in the remote tier. */
export function encodeEnvelope(envelope: Envelope): string {
  const tags = envelope.tags.length === 0 ? '' : JSON.stringify(envelope.tags)
  const kind = envelope.codec === undefined || envelope.kind !== 'v' ? envelope.kind : CODEC_KIND[envelope.codec]
  const l1 = envelope.l1TtlMs === undefined ? '' : `${envelope.l1TtlMs}|`
  return `${l1 === '' ? MAGIC : MAGIC_L1}${kind}|${envelope.createdAt}|${envelope.freshUntil}|${envelope.staleUntil}|${envelope.loadMs}|${l1}${tags.length}|${tags}${envelope.payload}`
}

/**
 * Decodes what the remote tier returned. Returns `undefined` for anything that is not a
 * well-formed envelope of this version (corrupt, truncated, another application's data): the
 * caller treats it as a miss and removes it.
 */
export function decodeEnvelope(raw: string): Envelope | undefined {
  const withL1 = raw.startsWith(MAGIC_L1)
  if (!withL1 && !raw.startsWith(MAGIC)) return undefined
  // Six '|'-separated header fields (seven with an L1 TTL), read in place (this runs on every L2 hit).
  const kindEnd = raw.indexOf('|', MAGIC.length)
  const createdEnd = kindEnd === -1 ? -1 : raw.indexOf('|', kindEnd + 1)
  const freshEnd = createdEnd === -1 ? -1 : raw.indexOf('|', createdEnd + 1)
  const staleEnd = freshEnd === -1 ? -1 : raw.indexOf('|', freshEnd + 1)
  const loadEnd = staleEnd === -1 ? -1 : raw.indexOf('|', staleEnd + 1)
  const l1End = !withL1 || loadEnd === -1 ? loadEnd : raw.indexOf('|', loadEnd + 1)
  const tagsLengthEnd = l1End === -1 ? -1 : raw.indexOf('|', l1End + 1)
  if (tagsLengthEnd === -1 || kindEnd !== MAGIC.length + 1) return undefined
  const mark = raw[MAGIC.length]
  const codec = codecOfKind(mark)
  const kind = codec !== undefined ? 'v' : mark
  if (kind !== 'v' && kind !== 'n' && kind !== 'u') return undefined
  const createdAt = toTime(raw.slice(kindEnd + 1, createdEnd))
  const freshUntil = toTime(raw.slice(createdEnd + 1, freshEnd))
  const staleUntil = toTime(raw.slice(freshEnd + 1, staleEnd))
  const loadMs = toTime(raw.slice(staleEnd + 1, loadEnd))
  const l1TtlMs = withL1 ? toTime(raw.slice(loadEnd + 1, l1End)) : undefined
  if (withL1 && l1TtlMs === undefined) return undefined
  const tagsLen = toTime(raw.slice(l1End + 1, tagsLengthEnd))
  const start = tagsLengthEnd + 1
  if (
    createdAt === undefined ||
    freshUntil === undefined ||
    staleUntil === undefined ||
    loadMs === undefined ||
    tagsLen === undefined ||
    freshUntil < createdAt ||
    staleUntil < freshUntil ||
    start + tagsLen > raw.length
  ) {
    return undefined
  }
  let tags = NO_TAGS
  if (tagsLen > 0) {
    const parsed = parseTags(raw.slice(start, start + tagsLen))
    if (parsed === undefined) return undefined
    tags = parsed
  }
  const payload = raw.slice(start + tagsLen)
  if (kind !== 'v' && payload.length !== 0) return undefined
  if (codec !== undefined && payload.length === 0) return undefined
  const envelope: Envelope = { kind, payload, codec, createdAt, freshUntil, staleUntil, loadMs, tags }
  if (l1TtlMs !== undefined) envelope.l1TtlMs = l1TtlMs
  return envelope
}

function codecOfKind(mark: string | undefined): CompressionCodec | undefined {
  return mark === 'b' ? 'brotli' : mark === 'g' ? 'gzip' : mark === 'z' ? 'zstd' : undefined
}

function toTime(text: string): number | undefined {
  if (text.length === 0 || text.length > 16) return undefined
  const n = Number(text)
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined
}

function parseTags(text: string): string[] | undefined {
  try {
    const tags: unknown = JSON.parse(text)
    if (Array.isArray(tags) && tags.every((t) => typeof t === 'string')) return tags
  } catch {
    // falls through: corrupt tags make the whole envelope corrupt
  }
  return undefined
}
