import { isUtf8 } from 'node:buffer'
import type { TagsOf } from '../config/entity-policy.js'
import { type CapturedResponse, firstHeader } from './captured-response.js'
import { isStrongEtag, strongEtag } from './etag.js'
import type { ResolvedHttpCacheOptions } from './http-options.js'

/**
 * A cached HTTP response: the value of the route's entity. Plain JSON, so any serializer of the
 * cache can hold it; the body is kept as UTF-8 text when it is valid UTF-8 (most JSON and HTML),
 * else as base64.
 */
export interface StoredResponse {
  /** Format version. */
  readonly v: 1
  readonly status: number
  /** The allow-listed response headers, lower-case names; never hop-by-hop, `set-cookie` or `content-length`. */
  readonly headers: Readonly<Record<string, string | readonly string[]>>
  readonly body: string
  readonly encoding: 'utf8' | 'base64'
  /** The body's length in bytes; for a HEAD entry (no body), the handler's `Content-Length`. */
  readonly length: number
  /** The validator served as `ETag`, or `null` for a HEAD entry whose handler gave none. */
  readonly etag: string | null
  /** When the handler produced it (ms since the epoch, on the cache's clock). */
  readonly storedAt: number
  /** When a status with its own, shorter TTL stops being served (ms), or `null` for the entity's TTL. */
  readonly expiresAt: number | null
  /**
   * The TTL the handler chose for this response (ms, `setCachePolicy`), which labels it `STALE`
   * past `storedAt + ttlMs`; absent for the entity's TTL (and in entries of older versions).
   */
  readonly ttlMs?: number
  /** The tags of the route's `tags` option. */
  readonly tags: readonly string[]
}

/**
 * Builds the stored form of a response the rules accepted. A GET entry's ETag is the handler's
 * own when it is strong, else a strong one computed from the body (a weak one, such as Express's
 * default, says nothing about the bytes); a HEAD entry has no body to hash and keeps the handler's.
 */
export function toStoredResponse<Req>(
  options: ResolvedHttpCacheOptions<Req>,
  response: CapturedResponse,
  context: { method: string; now: number; tags: readonly string[]; ttlMs?: number },
): StoredResponse {
  const headers: Record<string, string | readonly string[]> = {}
  for (const [name, value] of Object.entries(response.headers)) {
    if (value === undefined || name === 'etag' || !options.storedHeaders.has(name)) continue
    headers[name] = typeof value === 'number' ? String(value) : value
  }
  const handlerEtag = firstHeader(response.headers.etag)
  const head = context.method === 'HEAD'
  const body = response.body
  const text = body.length === 0 || isUtf8(body)
  // A TTL the handler chose replaces the status's own.
  const ttl = context.ttlMs === undefined ? (options.statuses.get(response.status) ?? null) : null
  return {
    v: 1,
    status: response.status,
    headers,
    body: text ? body.toString('utf8') : body.toString('base64'),
    encoding: text ? 'utf8' : 'base64',
    length: head ? contentLengthOf(response) : body.length,
    etag: head ? (handlerEtag ?? null) : handlerEtag !== undefined && isStrongEtag(handlerEtag) ? handlerEtag : strongEtag(body),
    storedAt: context.now,
    expiresAt: ttl === null ? null : context.now + ttl,
    tags: context.tags,
    ...(context.ttlMs === undefined ? {} : { ttlMs: context.ttlMs }),
  }
}

function contentLengthOf(response: CapturedResponse): number {
  const declared = Number(firstHeader(response.headers['content-length']))
  return Number.isSafeInteger(declared) && declared >= 0 ? declared : 0
}

/** True when `value` has the shape of a {@link StoredResponse} (anything else in the entity is a miss). */
export function isStoredResponse(value: unknown): value is StoredResponse {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Partial<StoredResponse>
  return (
    v.v === 1 &&
    typeof v.status === 'number' &&
    typeof v.headers === 'object' &&
    v.headers !== null &&
    typeof v.body === 'string' &&
    (v.encoding === 'utf8' || v.encoding === 'base64') &&
    typeof v.length === 'number' &&
    typeof v.storedAt === 'number' &&
    Array.isArray(v.tags)
  )
}

// An L1 hit returns the same object every time: its bytes are decoded once, not on every hit.
const bodies = new WeakMap<StoredResponse, Buffer>()

/** The body bytes of a stored response (decoded once per stored object). */
export function storedBody(stored: StoredResponse): Buffer {
  let body = bodies.get(stored)
  if (body === undefined) {
    body = Buffer.from(stored.body, stored.encoding)
    bodies.set(stored, body)
  }
  return body
}

/**
 * The entity `tags` function of an HTTP route's entity: the tags the route stored with the
 * response. `entities: { productPage: { ttl: '1m', tags: httpResponseTags } }`.
 */
export const httpResponseTags: TagsOf = (_id, value) => (isStoredResponse(value) ? value.tags : [])
