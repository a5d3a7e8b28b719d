import { createHash } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'

/** The request as the HTTP layer reads it: what both Express and Fastify expose from Node's `IncomingMessage`. */
export interface HttpRequestInfo {
  /** The request method as received. */
  readonly method: string
  /** The request target as received: path and query (Express `req.originalUrl`, Fastify `request.raw.url`). */
  readonly url: string
  readonly headers: IncomingHttpHeaders
}

/** The inputs of a cache key, normalised. */
export interface HttpCacheKeyParts {
  /** `GET` or `HEAD` (they are separate entries: a HEAD response has no body). */
  readonly method: string
  /** The `Host` header, lower-cased (`''` when absent): a handler may reflect it, so it is always keyed. */
  readonly host: string
  /** The path, percent-encoding normalised (see {@link normaliseTarget}). */
  readonly path: string
  /** The named query parameters present, sorted by name, first value of each. */
  readonly query: readonly (readonly [string, string])[]
  /** Each varied header with its value (`null` when absent), sorted by name. */
  readonly headers: readonly (readonly [string, string | null])[]
  /** Whom the entry is for (the route's `key`), or `null` for a shared entry. */
  readonly user: string | null
}

/** Longest key kept readable; longer keys (and keys with `{`, a Redis Cluster hash tag) are hashed. */
const MAX_READABLE_KEY_LENGTH = 256

/**
 * The entity id of a cached response: the parts as JSON (unambiguous whatever the values hold)
 * when short, or `sha256:<hex>` of that JSON otherwise, which keeps ids far below the core's
 * 512-character limit and keeps user-chosen hash tags out of Redis keys. Deterministic across
 * instances; exported so a write route can name the exact entry it changes.
 */
export function httpCacheKey(parts: HttpCacheKeyParts): string {
  const text = JSON.stringify([parts.method, parts.host, parts.path, parts.query, parts.headers, parts.user])
  if (text.length <= MAX_READABLE_KEY_LENGTH && !text.includes('{')) return text
  return `sha256:${createHash('sha256').update(text).digest('hex')}`
}

/** A request target split and normalised for keying. */
export interface NormalisedTarget {
  readonly path: string
  /** The named parameters present, sorted by name, first value of each. */
  readonly query: readonly (readonly [string, string])[]
  /** The same as an object: what the handler of a cached route sees as its query. */
  readonly queryObject: Record<string, string>
}

const UNRESERVED = /^[A-Za-z0-9\-._~]$/
const HEX = /^[0-9A-Fa-f]{2}$/

/**
 * Splits `url` into a normalised path and the named query parameters, or returns `undefined`
 * when it is malformed (bad percent-encoding, or escapes that do not decode as UTF-8), which
 * the caller turns into a bypass. The path keeps its case and its slashes, since routers treat
 * those as different paths; percent-escapes of unreserved characters are decoded (`%41` is `A`)
 * and the others upper-cased (`%2f` is `%2F`), which routers decode to the same parameters.
 */
export function normaliseTarget(url: string, names: readonly string[]): NormalisedTarget | undefined {
  const mark = url.indexOf('?')
  const rawPath = mark === -1 ? url : url.slice(0, mark)
  const path = normalisePath(rawPath)
  if (path === undefined) return undefined
  const query: [string, string][] = []
  const queryObject: Record<string, string> = Object.create(null)
  if (mark !== -1) {
    const found = new Map<string, string>()
    for (const pair of url.slice(mark + 1).split('&')) {
      if (pair === '') continue
      const eq = pair.indexOf('=')
      const name = decodeQueryComponent(eq === -1 ? pair : pair.slice(0, eq))
      const value = decodeQueryComponent(eq === -1 ? '' : pair.slice(eq + 1))
      if (name === undefined || value === undefined) return undefined
      if (!found.has(name)) found.set(name, value)
    }
    for (const name of names) {
      const value = found.get(name)
      if (value === undefined) continue
      query.push([name, value])
      queryObject[name] = value
    }
  }
  return { path, query, queryObject }
}

function normalisePath(raw: string): string | undefined {
  if (!raw.includes('%')) return raw
  try {
    decodeURIComponent(raw)
  } catch {
    return undefined
  }
  let out = ''
  for (let i = 0; i < raw.length; i++) {
    const char = raw[i] as string
    if (char !== '%') {
      out += char
      continue
    }
    const hex = raw.slice(i + 1, i + 3)
    if (!HEX.test(hex)) return undefined
    const decoded = String.fromCharCode(Number.parseInt(hex, 16))
    out += UNRESERVED.test(decoded) ? decoded : `%${hex.toUpperCase()}`
    i += 2
  }
  return out
}

function decodeQueryComponent(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw.replaceAll('+', ' '))
  } catch {
    return undefined
  }
}

/** One request header's value for keying: repeated fields joined with `, `, trimmed; `null` when absent. */
export function headerForKey(headers: IncomingHttpHeaders, name: string): string | null {
  const value = headers[name]
  if (value === undefined) return null
  return (typeof value === 'string' ? value : value.join(', ')).trim()
}
