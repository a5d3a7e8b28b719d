/**
 * Unit tests of the framework-neutral HTTP layer in `@tiercache/core/http` (pure logic, no Redis).
 * They live here because both adapters stand on it and core's own tests are another team's folder.
 */
import { createCache, isTierCacheError, TierCacheError } from '@tiercache/core'
import {
  applyInvalidation,
  type CapturedResponse,
  decideRequest,
  type HttpRequestInfo,
  httpCacheKey,
  ifNoneMatchMatches,
  isStoredResponse,
  normaliseTarget,
  planStoredResponse,
  resolveHttpCacheOptions,
  storedBody,
  strongEtag,
  toStoredResponse,
  unstorableReason,
} from '@tiercache/core/http'
import { describe, expect, it } from 'vitest'

const options = resolveHttpCacheOptions({ entity: 'page', query: ['sort', 'page'], varyHeaders: ['Accept-Language'] })

function info(url: string, headers: Record<string, string> = {}, method = 'GET'): HttpRequestInfo {
  return { method, url, headers: { host: 'shop.test', ...headers } }
}

function captured(status: number, headers: Record<string, string | string[]> = {}, body = 'body'): CapturedResponse {
  return { status, headers, body: Buffer.from(body) }
}

describe('@tiercache/core/http: options', () => {
  it('resolves defaults once: statuses [200], 512 KiB, lower-cased sorted names', () => {
    expect(options.statuses).toEqual(new Map([[200, null]]))
    expect(options.maxBodyBytes).toBe(512 * 1024)
    expect(options.query).toEqual(['page', 'sort'])
    expect(options.varyHeaders).toEqual(['accept-language'])
    expect(options.storedHeaders.has('content-type')).toBe(true)
    expect(options.allowNoCache).toBe(false)
  })

  it('reads per-status TTLs', () => {
    const resolved = resolveHttpCacheOptions({ entity: 'page', statuses: { 200: true, 404: '30s' } })
    expect(resolved.statuses).toEqual(
      new Map([
        [200, null],
        [404, 30_000],
      ]),
    )
  })

  it.each([
    [{}, 'entity'],
    [{ entity: 'page', statuses: [206] }, 'statuses.0'],
    [{ entity: 'page', statuses: [] }, 'statuses'],
    [{ entity: 'page', statuses: 'all' }, 'statuses'],
    [{ entity: 'page', query: [''] }, 'query.0'],
    [{ entity: 'page', headers: ['transfer-encoding'] }, 'headers.0'],
    [{ entity: 'page', allowNoCache: 'yes' }, 'allowNoCache'],
    [{ entity: 'page', skip: true }, 'skip'],
  ])('rejects %j naming %s', (input, path) => {
    expect(() => resolveHttpCacheOptions(input, 'route')).toThrowError(new RegExp(`INVALID_CONFIG: .*route\\.${path.replace('.', '\\.')}`))
  })
})

describe('@tiercache/core/http: targets and keys', () => {
  it('normalises percent-encoding of the path without changing what routers see', () => {
    expect(normaliseTarget('/a%41%2fb%7E', [])?.path).toBe('/aA%2Fb~')
    expect(normaliseTarget('/caf%C3%A9', [])?.path).toBe('/caf%C3%A9')
    expect(normaliseTarget('/Mixed//Case/', [])?.path).toBe('/Mixed//Case/')
  })

  it('keeps only the named query parameters, sorted, first value wins, + as space', () => {
    const target = normaliseTarget('/l?z=1&sort=a+b&page=2&page=3&x', ['page', 'sort'])
    expect(target?.query).toEqual([
      ['page', '2'],
      ['sort', 'a b'],
    ])
    expect(target?.queryObject).toEqual({ page: '2', sort: 'a b' })
  })

  it.each(['/a%zz', '/a%E0%A4%A', '/a?q=%zz', '/a?%=1', '/a%'])('reports %s as malformed', (url) => {
    expect(normaliseTarget(url, ['q'])).toBeUndefined()
  })

  it('keeps short keys readable and hashes long ones and ones with braces', () => {
    const parts = { method: 'GET', host: 'shop.test', path: '/p/1', query: [], headers: [], user: null }
    expect(httpCacheKey(parts)).toBe('["GET","shop.test","/p/1",[],[],null]')
    expect(httpCacheKey({ ...parts, path: `/${'x'.repeat(300)}` })).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(httpCacheKey({ ...parts, path: '/{tag}' })).toMatch(/^sha256:/)
    expect(httpCacheKey({ ...parts, user: 'null' })).not.toBe(httpCacheKey(parts))
    expect(httpCacheKey({ ...parts, method: 'HEAD' })).not.toBe(httpCacheKey(parts))
  })
})

describe('@tiercache/core/http: request rules', () => {
  it('skips methods other than GET and HEAD', () => {
    expect(decideRequest(options, info('/a', {}, 'POST'), {})).toEqual({ kind: 'skip' })
  })

  it('builds one key for reordered, repeated and unknown parameters, and keys Host and varied headers', () => {
    const key = (url: string, headers: Record<string, string> = {}) => {
      const decision = decideRequest(options, info(url, headers), {})
      return decision.kind === 'lookup' ? decision.key : decision.kind
    }
    expect(key('/l?page=2&sort=a')).toBe(key('/l?sort=a&utm=1&page=2&page=9'))
    expect(key('/l?page=2')).not.toBe(key('/l?page=3'))
    expect(key('/l', { 'accept-language': 'fr' })).not.toBe(key('/l'))
    expect(key('/l', { host: 'other.test' })).not.toBe(key('/l'))
    expect(key('/l', { host: 'SHOP.TEST' })).toBe(key('/l'))
  })

  it.each([
    ['x-forwarded-host', 'poisoning-header'],
    ['forwarded', 'poisoning-header'],
    ['authorization', 'credentials'],
    ['cookie', 'credentials'],
  ])('bypasses a request with %s (%s)', (header, reason) => {
    expect(decideRequest(options, info('/a', { [header]: 'v' }), {})).toEqual({ kind: 'bypass', reason, header })
  })

  it('lets credentials through when the route keys by user, or varies on the header', () => {
    const byUser = resolveHttpCacheOptions<{ user?: string }>({ entity: 'page', key: (req: { user?: string }) => req.user })
    expect(decideRequest(byUser, info('/a', { cookie: 's' }), { user: 'u1' }).kind).toBe('lookup')
    expect(decideRequest(byUser, info('/a', { cookie: 's' }), {}).kind).toBe('bypass')
    const byToken = resolveHttpCacheOptions({ entity: 'page', varyHeaders: ['authorization'] })
    expect(decideRequest(byToken, info('/a', { authorization: 'Bearer t' }), {}).kind).toBe('lookup')
  })

  it('bypasses over-long and malformed targets, and no-cache only when allowed', () => {
    expect(decideRequest(options, info(`/a?x=${'y'.repeat(9_000)}`), {})).toMatchObject({ reason: 'url-too-long' })
    expect(decideRequest(options, info('/a?page=%zz'), {})).toMatchObject({ reason: 'malformed-url' })
    expect(decideRequest(options, info('/a', { 'cache-control': 'no-cache' }), {}).kind).toBe('lookup')
    const lenient = resolveHttpCacheOptions({ entity: 'page', allowNoCache: true })
    for (const headers of [{ 'cache-control': 'no-cache' }, { 'cache-control': 'max-age=0' }, { pragma: 'no-cache' }] as Record<
      string,
      string
    >[]) {
      expect(decideRequest(lenient, info('/a', headers), {})).toMatchObject({ reason: 'no-cache' })
    }
    expect(decideRequest(lenient, info('/a', { 'cache-control': 'max-age=60' }), {}).kind).toBe('lookup')
  })
})

describe('@tiercache/core/http: response rules and stored responses', () => {
  it.each([
    [captured(200), null],
    [captured(404), 'status'],
    [captured(500), 'status'],
    [captured(200, { 'set-cookie': ['a=1'] }), 'set-cookie'],
    [captured(200, { 'cache-control': 'public, private' }), 'cache-control'],
    [captured(200, { 'cache-control': 'no-store' }), 'cache-control'],
    [captured(200, { vary: 'Cookie' }), 'vary'],
    [captured(200, { vary: '*' }), 'vary'],
    [captured(200, { vary: 'Accept-Encoding, accept-language' }), null],
    [captured(200, { 'content-encoding': 'gzip', vary: 'Accept-Encoding' }), 'content-encoding'],
    [captured(200, {}, 'x'.repeat(512 * 1024 + 1)), 'too-large'],
  ])('%#: decides %j -> %s', (response, reason) => {
    expect(unstorableReason(options, response)).toBe(reason)
  })

  it('stores allow-listed headers only, text as UTF-8 and bytes as base64, with a strong ETag', () => {
    const text = toStoredResponse(options, captured(200, { 'content-type': 'text/plain', 'x-secret': 'no', etag: 'W/"weak"' }, 'héllo'), {
      method: 'GET',
      now: 1_000,
      tags: ['t'],
    })
    expect(text).toMatchObject({
      status: 200,
      headers: { 'content-type': 'text/plain' },
      encoding: 'utf8',
      body: 'héllo',
      length: 6,
      storedAt: 1_000,
      expiresAt: null,
      tags: ['t'],
    })
    expect(text.etag).toBe(strongEtag(Buffer.from('héllo')))
    expect(isStoredResponse(JSON.parse(JSON.stringify(text)))).toBe(true)
    const bytes = { status: 200, headers: { etag: '"mine"' }, body: Buffer.from([0xff, 0x00, 0xfe]) }
    const binary = toStoredResponse(options, bytes, { method: 'GET', now: 0, tags: [] })
    expect(binary.encoding).toBe('base64')
    expect(binary.etag).toBe('"mine"')
    expect(storedBody(binary).equals(bytes.body)).toBe(true)
  })

  it('plans 304 for a matching If-None-Match, HEAD without body, and Age in whole seconds', () => {
    const stored = toStoredResponse(options, captured(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=5' }), {
      method: 'GET',
      now: 0,
      tags: [],
    })
    const etag = stored.etag as string
    const notModified = planStoredResponse(stored, info('/a', { 'if-none-match': `W/${etag}` }), 'HIT', 2_500)
    expect(notModified.status).toBe(304)
    expect(notModified.body).toBeNull()
    expect(Object.fromEntries(notModified.headers)).toEqual({ 'x-cache': 'HIT', age: '2', etag, 'cache-control': 'max-age=5' })
    const head = planStoredResponse(stored, info('/a', {}, 'HEAD'), 'STALE', 0)
    expect(head.body).toBeNull()
    expect(Object.fromEntries(head.headers)).toMatchObject({ 'content-length': '4', 'x-cache': 'STALE' })
    expect(planStoredResponse(stored, info('/a'), 'HIT', 0).body?.toString()).toBe('body')
  })

  it('matches If-None-Match by the weak comparison', () => {
    expect(ifNoneMatchMatches('"a", "b"', '"b"')).toBe(true)
    expect(ifNoneMatchMatches('W/"b"', '"b"')).toBe(true)
    expect(ifNoneMatchMatches('*', '"b"')).toBe(true)
    expect(ifNoneMatchMatches('"c"', '"b"')).toBe(false)
    expect(ifNoneMatchMatches(undefined, '"b"')).toBe(false)
    expect(ifNoneMatchMatches('*', null)).toBe(false)
  })
})

describe('@tiercache/core/http: invalidation', () => {
  it('rejects a malformed invalidation and an unknown entity', async () => {
    const cache = createCache({ namespace: 'unit', entities: { product: { ttl: '1m' } } })
    await expect(applyInvalidation(cache, 'product:1' as never)).rejects.toSatisfy((e) => isTierCacheError(e, 'INVALID_CONFIG'))
    await expect(applyInvalidation(cache, { entities: { nope: ['1'] } })).rejects.toSatisfy((e) => isTierCacheError(e, 'UNKNOWN_ENTITY'))
    await expect(applyInvalidation(cache, { tags: [''] })).rejects.toBeInstanceOf(TierCacheError)
    await expect(applyInvalidation(cache, undefined)).resolves.toBeUndefined()
    await cache.close()
  })
})
