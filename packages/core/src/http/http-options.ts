import { z } from 'zod'
import { cacheOptionsSchema, configError } from '../config/config-schema.js'
import { NAME_PATTERN } from '../config/name-pattern.js'
import { type Duration, tryParseDuration } from '../util/duration.js'
import { type Logger, silentLogger } from '../util/logger.js'
import type { Invalidates } from './invalidation.js'

/**
 * Options of one cached route (Express `httpCache(cache, options)`, Fastify route
 * `config: { cache: options }` or the plugin's `defaults`). `Req` is the framework's request.
 * Validated once, when the route is registered: a bad option throws `INVALID_CONFIG` naming it.
 */
export interface HttpCacheOptions<Req = unknown> {
  /**
   * The entity of the cache that holds this route's responses. Its policy applies: `ttl` is how
   * long a response is served as a `HIT`, `grace` how long after that it is served as `STALE`
   * while the handler refreshes it in the background. Give it `tags: httpResponseTags` to
   * invalidate pages by the tags of the `tags` option.
   */
  entity: string
  /**
   * Keys the entry by user: returns the id of whom the response is for (a user id, a tenant), or
   * `undefined`/`null`/`''` for an anonymous request. With it, requests carrying `Authorization`
   * or `Cookie` are cached, each user in their own entries; without it they bypass the cache.
   * Default: none.
   */
  key?: (req: Req) => string | undefined | null
  /**
   * Request headers that change the response (`accept-language`, `x-forwarded-proto`): each
   * becomes part of the key, so requests that differ in it never share an entry. Naming a header
   * of the poisoning list here (`x-forwarded-host`, ...) lets requests that carry it be cached,
   * keyed by its value; naming `authorization` or `cookie` keys the entry by that credential.
   * Case-insensitive. Default: none.
   */
  varyHeaders?: readonly string[]
  /**
   * Query parameters that change the response. Only these are part of the key, in sorted order,
   * first value wins; the handler of a cached route sees only these (its `query` is filtered), so
   * unknown, repeated or reordered parameters create no new entries and cannot reach a cached
   * response. Default: none (the query string is ignored).
   */
  query?: readonly string[]
  /**
   * Response statuses that are stored: a list (`[200, 404]`), or a map from status to `true` (the
   * entity's TTL) or a shorter TTL of its own (`{ 200: true, 404: '30s' }`). 2xx to 4xx only,
   * never 206 or 304; 5xx are never stored. Default: `[200]`.
   */
  statuses?: readonly number[] | Readonly<Record<number, true | Duration>>
  /**
   * Whether a request `Cache-Control: no-cache` (or `max-age=0`, or `Pragma: no-cache`) bypasses
   * the cache. Off by default: it would let any client push load through to the database.
   */
  allowNoCache?: boolean
  /** Largest body stored (bytes); larger responses are passed through uncached. Default: 512 KiB. */
  maxBodyBytes?: number
  /**
   * Response headers stored besides the default allow-list (content-type, content-language,
   * content-encoding, content-disposition, content-location, cache-control, expires,
   * last-modified, etag, link, vary). Hop-by-hop headers and `set-cookie` cannot be stored.
   */
  headers?: readonly string[]
  /** Tags of the stored response, from the request (e.g. `['product:' + req.params.id]`). Default: none. */
  tags?: (req: Req) => readonly string[]
  /** Requests for which this middleware does nothing (per-route opt-out of a global default). Default: none. */
  skip?: (req: Req) => boolean
  /** pino-compatible logger for the debug lines of responses passed through uncached. Default: silent. */
  logger?: Logger
}

/** {@link HttpCacheOptions} after validation: plain, fully defaulted, names lower-cased. */
export interface ResolvedHttpCacheOptions<Req = unknown> {
  readonly entity: string
  readonly key: ((req: Req) => string | undefined | null) | null
  /** Lower-case, sorted, unique. */
  readonly varyHeaders: readonly string[]
  /** Sorted, unique. */
  readonly query: readonly string[]
  /** Stored statuses, each with its own TTL in ms, or `null` for the entity's. */
  readonly statuses: ReadonlyMap<number, number | null>
  readonly allowNoCache: boolean
  readonly maxBodyBytes: number
  /** Lower-case names of the response headers stored. */
  readonly storedHeaders: ReadonlySet<string>
  readonly tags: ((req: Req) => readonly string[]) | null
  readonly skip: ((req: Req) => boolean) | null
  readonly logger: Logger
}

/** Defaults of the HTTP layer, in one place next to the schema. */
export const HTTP_DEFAULTS = {
  /** Largest body stored (bytes): with base64's 4/3, a stored response stays under the core's 1 MiB maxValueBytes. */
  maxBodyBytes: 512 * 1024,
  statuses: [200] as readonly number[],
  /** Response headers stored by default. */
  storedHeaders: [
    'content-type',
    'content-language',
    'content-encoding',
    'content-disposition',
    'content-location',
    'cache-control',
    'expires',
    'last-modified',
    'etag',
    'link',
    'vary',
  ] as readonly string[],
  /** Longest request target (path and query) looked up; longer requests bypass the cache. */
  maxUrlLength: 8192,
  /**
   * Longest wait for the response of an internal refresh request (ms). Past it the refresh fails
   * (the stale value stays, with the entity's fail-safe backoff) rather than holding the entity's
   * refresh slot for ever; bound it tighter with the entity's `hardTimeout`.
   */
  internalRequestTimeoutMs: 30_000,
} as const

/** Response headers that are never stored: hop-by-hop (RFC 9110 §7.6.1), per-response, or per-client. */
export const NEVER_STORED_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'set-cookie',
  'content-length',
  'date',
  'age',
  'x-cache',
])

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

const headerName = z
  .string()
  .regex(HEADER_NAME, 'expected an HTTP header name')
  .transform((name) => name.toLowerCase())

const storableStatus = z
  .number()
  .int()
  .min(200)
  .max(499)
  .refine((status) => status !== 206 && status !== 304, 'partial (206) and not-modified (304) responses are never stored')

// A stored status's TTL: `true` for the entity's, or a duration of its own.
const statusTtl = z.unknown().transform((input, ctx): true | number => {
  if (input === true) return true
  const ms = tryParseDuration(input)
  if (ms === undefined || ms === 0) {
    ctx.addIssue({ code: 'custom', message: "expected true or a duration greater than 0 (ms as a number, or a string like '30s')" })
    return z.NEVER
  }
  return ms
})

function fn(signature: string) {
  return z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', `expected a function ${signature}`)
}

// The same logger check as createCache's options, taken from its schema rather than written twice.
const logger = cacheOptionsSchema.shape.logger.unwrap()

const statusList = z.array(storableStatus).min(1, 'expected at least one status')

const statusMap = z.record(z.string().regex(/^\d{3}$/, 'expected a status code'), statusTtl).superRefine((record, ctx) => {
  const keys = Object.keys(record)
  if (keys.length === 0) ctx.addIssue({ code: 'custom', message: 'expected at least one status' })
  for (const key of keys) {
    const checked = storableStatus.safeParse(Number(key))
    if (!checked.success) ctx.addIssue({ code: 'custom', path: [key], message: checked.error.issues[0]?.message ?? 'invalid status' })
  }
})

// A list or a map, told apart by shape, so an error names the bad entry rather than "no union member matched".
const statusesSchema = z.unknown().transform((input, ctx) => {
  const parsed = (Array.isArray(input) ? statusList : statusMap).safeParse(input)
  if (parsed.success) return parsed.data
  for (const issue of parsed.error.issues) {
    const message =
      typeof input === 'object' && input !== null ? issue.message : 'expected a list of statuses or a map from status to true or a TTL'
    ctx.addIssue({ code: 'custom', path: issue.path, message })
  }
  return z.NEVER
})

/** The zod schema of {@link HttpCacheOptions}, shared by the Express and Fastify packages. */
export const httpCacheOptionsSchema = z.strictObject({
  entity: z.string().regex(NAME_PATTERN, 'expected the name of an entity of the cache'),
  key: fn('(req) => string | undefined').optional(),
  varyHeaders: z.array(headerName).optional(),
  query: z.array(z.string().min(1, 'expected a query parameter name')).optional(),
  statuses: statusesSchema.optional(),
  allowNoCache: z.boolean().optional(),
  maxBodyBytes: z.number().int().positive().optional(),
  headers: z
    .array(headerName.refine((name) => !NEVER_STORED_HEADERS.has(name), 'hop-by-hop, per-response and set-cookie headers are never stored'))
    .optional(),
  tags: fn('(req) => string[]').optional(),
  skip: fn('(req) => boolean').optional(),
  logger: logger.optional(),
})

/**
 * Validates {@link HttpCacheOptions} and resolves them into plain, defaulted objects. Throws
 * `INVALID_CONFIG` naming the path of each bad field under `root` (e.g. `httpCache options`).
 */
export function resolveHttpCacheOptions<Req>(input: unknown, root = 'options'): ResolvedHttpCacheOptions<Req> {
  const parsed = httpCacheOptionsSchema.safeParse(input)
  if (!parsed.success) throw configError(parsed.error.issues, root)
  const options = parsed.data
  const statuses = new Map<number, number | null>()
  const given = options.statuses ?? HTTP_DEFAULTS.statuses
  if (Array.isArray(given)) {
    for (const status of given) statuses.set(status, null)
  } else {
    for (const [status, ttl] of Object.entries(given as Record<string, true | number>))
      statuses.set(Number(status), ttl === true ? null : ttl)
  }
  return {
    entity: options.entity,
    key: (options.key as ResolvedHttpCacheOptions<Req>['key']) ?? null,
    varyHeaders: [...new Set(options.varyHeaders ?? [])].sort(),
    query: [...new Set(options.query ?? [])].sort(),
    statuses,
    allowNoCache: options.allowNoCache ?? false,
    maxBodyBytes: options.maxBodyBytes ?? HTTP_DEFAULTS.maxBodyBytes,
    storedHeaders: new Set([...HTTP_DEFAULTS.storedHeaders, ...(options.headers ?? [])]),
    tags: (options.tags as ResolvedHttpCacheOptions<Req>['tags']) ?? null,
    skip: (options.skip as ResolvedHttpCacheOptions<Req>['skip']) ?? null,
    logger: options.logger ?? silentLogger,
  }
}

/** Options of invalidate-on-write (Express `invalidateOnWrite(cache, options)`, Fastify route `config.invalidates`). */
export interface InvalidateOnWriteOptions<Req = unknown, Res = unknown> {
  /**
   * What a successful write changes: entity ids and tags to invalidate. Runs after the handler
   * produced a 2xx response and before that response is sent, so a client that reads its own
   * write right after sees it; never for 1xx, 3xx, 4xx or 5xx.
   */
  invalidates: Invalidates<Req, Res>
}

const invalidateOnWriteSchema = z.strictObject({
  invalidates: fn('(req, res) => ({ entities?: { name: ids }, tags?: tags })'),
})

/** Validates {@link InvalidateOnWriteOptions}; throws `INVALID_CONFIG` naming the bad field under `root`. */
export function resolveInvalidateOnWriteOptions<Req, Res>(input: unknown, root = 'options'): InvalidateOnWriteOptions<Req, Res> {
  const parsed = invalidateOnWriteSchema.safeParse(input)
  if (!parsed.success) throw configError(parsed.error.issues, root)
  return { invalidates: parsed.data.invalidates as Invalidates<Req, Res> }
}

/**
 * Validates options shared by many routes (the Fastify plugin's `defaults`): any subset of
 * {@link HttpCacheOptions}, checked now so a bad default fails at registration, not at the first
 * route. Returns them as given; each route merges its own over them and resolves the result.
 */
export function validateHttpCacheDefaults<Req>(input: unknown, root = 'defaults'): Partial<HttpCacheOptions<Req>> {
  const parsed = httpCacheOptionsSchema.partial().safeParse(input)
  if (!parsed.success) throw configError(parsed.error.issues, root)
  return input as Partial<HttpCacheOptions<Req>>
}
