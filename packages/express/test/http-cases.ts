/**
 * The one table of HTTP caching cases, run against an Express app and a Fastify app over real
 * HTTP and the real Redis Cluster (`describeHttpCacheCases(driver)` from each package's test).
 */
import { Readable } from 'node:stream'
import { type CacheOptions, type Logger, ManualClock, type TierCache, TierCacheError } from '@tiercache/core'
import { httpCacheKey, httpResponseTags, POISONING_HEADERS } from '@tiercache/core/http'
import { EVENTUALLY } from '@tiercache/testkit'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import {
  type AppSpec,
  deferred,
  eventually,
  type HttpDriver,
  PUBLIC_HOST,
  type RunningApp,
  send,
  sleep,
  startRequest,
  type TestCacheOptions,
  type TestReply,
  type TestRequest,
  testCache,
  uniqueNamespace,
} from './http-harness.js'

/** Sends GET `path` and expects `answer` (status, body, …) served as a cache `HIT` or `MISS`. */
async function expectAnswer(url: string, path: string, answer: Record<string, unknown>, xCache: 'HIT' | 'MISS') {
  const reply = await send(url, path)
  expect(reply).toMatchObject(answer)
  expect(reply.headers['x-cache']).toBe(xCache)
}

const ENTITIES: CacheOptions['entities'] = {
  page: { ttl: '1m', tags: httpResponseTags },
  product: { ttl: '1m' },
}

/** A handler that counts its calls. */
function counted(answer: (req: TestRequest, call: number) => TestReply | Promise<TestReply>) {
  let calls = 0
  return {
    handler: (req: TestRequest) => answer(req, ++calls),
    calls: () => calls,
  }
}

/** A logger that keeps the reasons of its debug lines. */
function debugLog(): Logger & { reasons: unknown[] } {
  const reasons: unknown[] = []
  const logger: Logger = {
    debug: (obj) => reasons.push((obj as { reason?: unknown }).reason),
    info: () => {},
    warn: () => {},
    error: () => {},
    child: () => logger,
  }
  return Object.assign(logger, { reasons })
}

/**
 * Every response passed through uncached was logged with `reason`, and at least one was. A request
 * that arrives while the previous request's load is still settling (its lock being released, which
 * on a loaded machine can outlast the client reading the body) joins that load, gets its failure
 * and runs its handler without a capture of its own: it passes through uncached without a log line.
 * So a second request logs one line or none, and when it logs, the line can come after its client
 * read the body: the set of reasons is what holds, not the count.
 */
function expectOnlyReason(logger: { reasons: unknown[] }, reason: string): void {
  expect(new Set(logger.reasons)).toEqual(new Set([reason]))
}

function expectStrongEtag(etag: string | undefined): void {
  expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/)
}

/** Where the cache of the cases lives: on the Redis Cluster (the default), or in process only. */
export interface CaseOptions {
  l1Only?: boolean
}

export function describeHttpCacheCases(driver: HttpDriver, caseOptions: CaseOptions = {}): void {
  const l1Only = caseOptions.l1Only === true
  // Cases about several instances need a shared L2: an L1-only cache does not register them at all.
  const multiInstance = (name: string, body: () => Promise<void>): void => {
    if (!l1Only) it(name, body)
  }
  const where = l1Only ? 'an L1-only cache' : 'the Redis Cluster'
  describe(`${driver.name}: cached routes and invalidate-on-write, on ${where}`, () => {
    const opened: { close(): Promise<void> }[] = []
    afterEach(async () => {
      for (const item of opened.splice(0).reverse()) await item.close()
    })

    async function start(
      spec: AppSpec,
      entities = ENTITIES,
      options: TestCacheOptions = {},
    ): Promise<{ cache: TierCache; app: RunningApp }> {
      const cache = await testCache(entities, { ...options, l1Only })
      opened.push(cache)
      const app = await driver.start(cache, spec)
      opened.push(app)
      return { cache, app }
    }

    describe('caching read routes', () => {
      it('answers a GET from the cache after the first request, with the same body, Age and a strong ETag', async () => {
        const page = counted((req, n) => ({
          headers: { 'content-type': 'text/plain; charset=utf-8', 'x-extra': 'yes' },
          body: `product ${req.params.id} #${n}`,
        }))
        const { app } = await start({
          routes: [{ method: 'GET', path: '/products/:id', cache: { entity: 'page' }, handler: page.handler }],
        })
        const first = await send(app.url, '/products/1')
        expect(first).toMatchObject({ status: 200, body: 'product 1 #1' })
        expect(first.headers['x-cache']).toBe('MISS')
        expect(first.headers.age).toBe('0')
        expectStrongEtag(first.headers.etag)
        const second = await send(app.url, '/products/1')
        expect(second).toMatchObject({ status: 200, body: 'product 1 #1' })
        expect(second.headers['x-cache']).toBe('HIT')
        expect(second.headers.etag).toBe(first.headers.etag)
        expect(second.headers['content-type']).toBe('text/plain; charset=utf-8')
        expect(second.headers['content-length']).toBe(String('product 1 #1'.length))
        expect(Number(second.headers.age)).toBeGreaterThanOrEqual(0)
        expect(page.calls()).toBe(1)
        expect((await send(app.url, '/products/2')).body).toBe('product 2 #2')
      })

      it('caches HEAD on its own entry: no body, the GET body length, MISS then HIT', async () => {
        const page = counted(() => ({ headers: { 'content-type': 'text/plain' }, body: 'twelve bytes' }))
        const { app } = await start({ routes: [{ method: 'GET', path: '/head', cache: { entity: 'page' }, handler: page.handler }] })
        const first = await send(app.url, '/head', { method: 'HEAD' })
        expect(first.status).toBe(200)
        expect(first.body).toBe('')
        expect(first.headers['x-cache']).toBe('MISS')
        expect(first.headers['content-length']).toBe('12')
        const second = await send(app.url, '/head', { method: 'HEAD' })
        expect(second.body).toBe('')
        expect(second.headers['x-cache']).toBe('HIT')
        expect(second.headers['content-length']).toBe('12')
        expect(second.headers['content-type']).toMatch(/^text\/plain/)
        expect(page.calls()).toBe(1)
        const get = await send(app.url, '/head')
        expect(get).toMatchObject({ status: 200, body: 'twelve bytes' })
        expect(get.headers['x-cache']).toBe('MISS')
      })

      it('answers If-None-Match with 304 from the cache, strong or weak, and 200 when it does not match', async () => {
        const page = counted(() => ({
          headers: { 'content-type': 'application/json', 'cache-control': 'public, max-age=60' },
          body: '{"id":1}',
        }))
        const { app } = await start({ routes: [{ method: 'GET', path: '/etag', cache: { entity: 'page' }, handler: page.handler }] })
        const first = await send(app.url, '/etag', { headers: { 'if-none-match': '"nope"' } })
        expect(first.status).toBe(200)
        const etag = first.headers.etag as string
        expectStrongEtag(etag)
        const notModified = await send(app.url, '/etag', { headers: { 'if-none-match': etag } })
        expect(notModified.status).toBe(304)
        expect(notModified.body).toBe('')
        expect(notModified.headers.etag).toBe(etag)
        expect(notModified.headers['x-cache']).toBe('HIT')
        expect(notModified.headers['cache-control']).toBe('public, max-age=60')
        expect((await send(app.url, '/etag', { headers: { 'if-none-match': `"x", W/${etag}` } })).status).toBe(304)
        expect((await send(app.url, '/etag', { headers: { 'if-none-match': '*' } })).status).toBe(304)
        const changed = await send(app.url, '/etag', { headers: { 'if-none-match': '"other"' } })
        expect(changed).toMatchObject({ status: 200, body: '{"id":1}' })
        expect(page.calls()).toBe(1)
      })

      it('answers a matching If-None-Match on the request that ran the handler with 304 too', async () => {
        const page = counted(() => ({ body: 'same bytes' }))
        const { app, cache } = await start({
          routes: [{ method: 'GET', path: '/etag-miss', cache: { entity: 'page' }, handler: page.handler }],
        })
        const etag = (await send(app.url, '/etag-miss')).headers.etag as string
        await cache
          .entity('page')
          .invalidate(httpCacheKey({ method: 'GET', host: PUBLIC_HOST, path: '/etag-miss', query: [], headers: [], user: null }))
        const again = await send(app.url, '/etag-miss', { headers: { 'if-none-match': etag } })
        expect(again.status).toBe(304)
        expect(again.headers['x-cache']).toBe('MISS')
        expect(page.calls()).toBe(2)
      })

      it('never serves other methods from the cache', async () => {
        const read = counted(() => ({ body: 'read' }))
        const write = counted(() => ({ body: 'written' }))
        const { app } = await start({
          routes: [
            { method: 'GET', path: '/thing', cache: { entity: 'page' }, handler: read.handler },
            { method: 'POST', path: '/thing', handler: write.handler },
          ],
        })
        await send(app.url, '/thing')
        await send(app.url, '/thing')
        const posted = await send(app.url, '/thing', { method: 'POST' })
        expect(posted.body).toBe('written')
        expect(posted.headers['x-cache']).not.toBe('HIT')
        expect(write.calls()).toBe(1)
        expect(read.calls()).toBe(1)
      })

      it('keys only the named query parameters: unknown, repeated and reordered ones share one entry and never reach the handler', async () => {
        const list = counted((req) => ({ body: JSON.stringify(req.query) }))
        const { app } = await start({
          routes: [{ method: 'GET', path: '/list', cache: { entity: 'page', query: ['page', 'sort'] }, handler: list.handler }],
        })
        const first = await send(app.url, '/list?page=2&sort=name&utm_source=mail')
        expect(JSON.parse(first.body)).toEqual({ page: '2', sort: 'name' })
        for (const target of [
          '/list?sort=name&page=2',
          '/list?utm_campaign=x&page=2&sort=name',
          '/list?page=2&page=3&sort=name',
          '/list?sort=name&page=2&',
        ]) {
          const reply = await send(app.url, target)
          expect(reply.headers['x-cache'], target).toBe('HIT')
          expect(JSON.parse(reply.body)).toEqual({ page: '2', sort: 'name' })
        }
        expect(list.calls()).toBe(1)
        expect(JSON.parse((await send(app.url, '/list?page=3&sort=name')).body)).toEqual({ page: '3', sort: 'name' })
        expect(JSON.parse((await send(app.url, '/list?page=2')).body)).toEqual({ page: '2' })
        expect(list.calls()).toBe(3)
      })

      it('keys the entry by each header of varyHeaders', async () => {
        const page = counted((req) => ({
          headers: { 'content-language': String(req.headers['accept-language'] ?? 'en') },
          body: `hello in ${req.headers['accept-language'] ?? 'en'}`,
        }))
        const { app } = await start({
          routes: [{ method: 'GET', path: '/hello', cache: { entity: 'page', varyHeaders: ['Accept-Language'] }, handler: page.handler }],
        })
        expect((await send(app.url, '/hello', { headers: { 'accept-language': 'fr' } })).body).toBe('hello in fr')
        expect((await send(app.url, '/hello', { headers: { 'accept-language': 'de' } })).body).toBe('hello in de')
        const fr = await send(app.url, '/hello', { headers: { 'accept-language': 'fr' } })
        expect(fr.body).toBe('hello in fr')
        expect(fr.headers['x-cache']).toBe('HIT')
        expect(fr.headers['content-language']).toBe('fr')
        expect((await send(app.url, '/hello')).body).toBe('hello in en')
        expect(page.calls()).toBe(3)
      })

      it('stores only the statuses of the route: a 404 is not stored by default', async () => {
        const missing = counted(() => ({ status: 404, body: 'not found' }))
        const { app } = await start({ routes: [{ method: 'GET', path: '/gone', cache: { entity: 'page' }, handler: missing.handler }] })
        await send(app.url, '/gone')
        const second = await send(app.url, '/gone')
        expect(second.status).toBe(404)
        expect(second.headers['x-cache']).toBe('MISS')
        expect(missing.calls()).toBe(2)
      })

      it('stores a listed status with its own shorter TTL, and loads it again once that TTL has passed', async () => {
        const clock = new ManualClock()
        const missing = counted((_req, n) => ({ status: 404, body: `not found #${n}` }))
        const { app } = await start(
          {
            routes: [
              { method: 'GET', path: '/maybe', cache: { entity: 'page', statuses: { 200: true, 404: '5s' } }, handler: missing.handler },
            ],
          },
          ENTITIES,
          { clock },
        )
        expect((await send(app.url, '/maybe')).body).toBe('not found #1')
        await expectAnswer(app.url, '/maybe', { status: 404, body: 'not found #1' }, 'HIT')
        clock.advance(5_001)
        await expectAnswer(app.url, '/maybe', { status: 404, body: 'not found #2' }, 'MISS')
        expect(missing.calls()).toBe(2)
      })

      it('ignores a client Cache-Control: no-cache unless the route allows it', async () => {
        const strict = counted(() => ({ body: 'strict' }))
        const lenient = counted((_req, n) => ({ body: `lenient #${n}` }))
        const { app } = await start({
          routes: [
            { method: 'GET', path: '/strict', cache: { entity: 'page' }, handler: strict.handler },
            { method: 'GET', path: '/lenient', cache: { entity: 'page', allowNoCache: true }, handler: lenient.handler },
          ],
        })
        await send(app.url, '/strict')
        const pushed = await send(app.url, '/strict', { headers: { 'cache-control': 'no-cache' } })
        expect(pushed.headers['x-cache']).toBe('HIT')
        expect(strict.calls()).toBe(1)
        await send(app.url, '/lenient')
        const bypassed = await send(app.url, '/lenient', { headers: { 'cache-control': 'no-cache' } })
        expect(bypassed.headers['x-cache']).toBe('BYPASS')
        expect(bypassed.body).toBe('lenient #2')
        expect((await send(app.url, '/lenient', { headers: { pragma: 'no-cache' } })).headers['x-cache']).toBe('BYPASS')
        const plain = await send(app.url, '/lenient')
        expect(plain).toMatchObject({ body: 'lenient #1' })
        expect(plain.headers['x-cache']).toBe('HIT')
      })

      it('caches every GET route by default, except the routes that opt out', async () => {
        const a = counted(() => ({ body: 'a' }))
        const b = counted(() => ({ body: 'b' }))
        const { app } = await start({
          defaults: { entity: 'page' },
          routes: [
            { method: 'GET', path: '/default', handler: a.handler },
            { method: 'GET', path: '/opted-out', cache: false, handler: b.handler },
          ],
        })
        await send(app.url, '/default')
        expect((await send(app.url, '/default')).headers['x-cache']).toBe('HIT')
        await send(app.url, '/opted-out')
        const out = await send(app.url, '/opted-out')
        expect(out.headers['x-cache']).toBeUndefined()
        expect(a.calls()).toBe(1)
        expect(b.calls()).toBe(2)
      })
    })

    describe('privacy', () => {
      const secret = (req: TestRequest): TestReply => {
        const who = String(req.headers.authorization ?? req.headers.cookie ?? 'anonymous')
        return { body: `data of ${who}` }
      }

      it.each([
        ['authorization', 'Bearer token-A', 'Bearer token-B'],
        ['cookie', 'sid=user-A', 'sid=user-B'],
      ])('bypasses requests with %s on a route not keyed by user: user B never receives user A’s body', async (header, userA, userB) => {
        const page = counted(secret)
        const { app } = await start({ routes: [{ method: 'GET', path: '/me', cache: { entity: 'page' }, handler: page.handler }] })
        const a = await send(app.url, '/me', { headers: { [header]: userA } })
        expect(a.body).toBe(`data of ${userA}`)
        expect(a.headers['x-cache']).toBe('BYPASS')
        const b = await send(app.url, '/me', { headers: { [header]: userB } })
        expect(b.body).toBe(`data of ${userB}`)
        expect(b.headers['x-cache']).toBe('BYPASS')
        const anonymous = await send(app.url, '/me')
        expect(anonymous.body).toBe('data of anonymous')
        expect(anonymous.headers['x-cache']).toBe('MISS')
        expect((await send(app.url, '/me', { headers: { [header]: userB } })).body).toBe(`data of ${userB}`)
        expect((await send(app.url, '/me')).headers['x-cache']).toBe('HIT')
        expect(page.calls()).toBe(4)
      })

      it('caches per user on a route keyed by user: each user gets their own body, never another’s', async () => {
        const page = counted((req, n) => ({ body: `data of ${req.headers.authorization ?? 'anonymous'} #${n}` }))
        const userOf = (req: { headers: Record<string, unknown> }) =>
          typeof req.headers.authorization === 'string' ? req.headers.authorization.slice(7) : undefined
        const { app } = await start({
          routes: [{ method: 'GET', path: '/me', cache: { entity: 'page', key: userOf }, handler: page.handler }],
        })
        const a = await send(app.url, '/me', { headers: { authorization: 'Bearer A' } })
        expect(a.body).toBe('data of Bearer A #1')
        expect(a.headers['x-cache']).toBe('MISS')
        const b = await send(app.url, '/me', { headers: { authorization: 'Bearer B' } })
        expect(b.body).toBe('data of Bearer B #2')
        const aAgain = await send(app.url, '/me', { headers: { authorization: 'Bearer A' } })
        expect(aAgain.body).toBe('data of Bearer A #1')
        expect(aAgain.headers['x-cache']).toBe('HIT')
        const bAgain = await send(app.url, '/me', { headers: { authorization: 'Bearer B' } })
        expect(bAgain.body).toBe('data of Bearer B #2')
        expect((await send(app.url, '/me')).body).toBe('data of anonymous #3')
        expect((await send(app.url, '/me', { headers: { cookie: 'sid=someone' } })).headers['x-cache']).toBe('BYPASS')
      })

      it('never stores a response with Set-Cookie, and never gives it to a request that waited for it', async () => {
        const page = counted(async (req) => {
          await sleep(50)
          const client = String(req.headers['x-client'])
          return { headers: { 'set-cookie': `sid=${client}` }, body: `for ${client}` }
        })
        const { app } = await start({ routes: [{ method: 'GET', path: '/login', cache: { entity: 'page' }, handler: page.handler }] })
        const replies = await Promise.all(
          Array.from({ length: 10 }, (_, i) => send(app.url, '/login', { headers: { 'x-client': `c${i}` } })),
        )
        replies.forEach((reply, i) => {
          expect(reply.body).toBe(`for c${i}`)
          expect(reply.headers['set-cookie']).toEqual([`sid=c${i}`])
          expect(reply.headers['x-cache']).toBe('MISS')
        })
        expect(page.calls()).toBe(10)
      })

      it.each(['private', 'no-store', 'no-cache', 'private, max-age=60'])(
        'never stores a response with Cache-Control: %s',
        async (cacheControl) => {
          const page = counted((_req, n) => ({ headers: { 'cache-control': cacheControl }, body: `#${n}` }))
          const { app } = await start({ routes: [{ method: 'GET', path: '/private', cache: { entity: 'page' }, handler: page.handler }] })
          await send(app.url, '/private')
          const second = await send(app.url, '/private')
          expect(second.body).toBe('#2')
          expect(second.headers['x-cache']).toBe('MISS')
        },
      )

      it('never stores a response that varies on a header the key does not hold', async () => {
        const page = counted((_req, n) => ({ headers: { vary: 'Origin' }, body: `#${n}` }))
        const { app } = await start({ routes: [{ method: 'GET', path: '/cors', cache: { entity: 'page' }, handler: page.handler }] })
        await send(app.url, '/cors')
        expect((await send(app.url, '/cors')).body).toBe('#2')
      })
    })

    describe('cache poisoning', () => {
      let app: RunningApp
      let cache: TierCache
      const reflect = (req: TestRequest): TestReply => {
        const reflected = POISONING_HEADERS.map((name) => req.headers[name])
          .filter((v) => v !== undefined)
          .join(' ')
        return { body: `<a href="https://${req.headers.host}/x">${reflected}</a>` }
      }
      beforeAll(async () => {
        cache = await testCache(ENTITIES, { l1Only })
        app = await driver.start(cache, {
          routes: [
            { method: 'GET', path: '/reflect/:n', cache: { entity: 'page' }, handler: reflect },
            { method: 'GET', path: '/varied/:n', cache: { entity: 'page', varyHeaders: ['x-forwarded-host'] }, handler: reflect },
          ],
        })
      })
      afterAll(async () => {
        await app.close()
        await cache.close()
      })

      it.each(POISONING_HEADERS)(
        'a request with %s is neither stored nor served from the cache; a later plain request never gets the reflected value',
        async (header) => {
          const target = `/reflect/${header}`
          const poisoned = await send(app.url, target, { headers: { [header]: 'evil.example' } })
          expect(poisoned.headers['x-cache']).toBe('BYPASS')
          expect(poisoned.body).toContain('evil.example')
          const plain = await send(app.url, target)
          expect(plain.headers['x-cache']).toBe('MISS')
          expect(plain.body).not.toContain('evil')
          expect((await send(app.url, target, { headers: { [header]: 'evil.example' } })).headers['x-cache']).toBe('BYPASS')
          const later = await send(app.url, target)
          expect(later.headers['x-cache']).toBe('HIT')
          expect(later.body).not.toContain('evil')
        },
      )

      it('caches by the value of a poisoning header the route varies on', async () => {
        const evil = await send(app.url, '/varied/1', { headers: { 'x-forwarded-host': 'evil.example' } })
        expect(evil.headers['x-cache']).toBe('MISS')
        const plain = await send(app.url, '/varied/1')
        expect(plain.headers['x-cache']).toBe('MISS')
        expect(plain.body).not.toContain('evil')
        const evilAgain = await send(app.url, '/varied/1', { headers: { 'x-forwarded-host': 'evil.example' } })
        expect(evilAgain.headers['x-cache']).toBe('HIT')
        expect(evilAgain.body).toContain('evil.example')
        expect((await send(app.url, '/varied/1', { headers: { 'x-forwarded-proto': 'http' } })).headers['x-cache']).toBe('BYPASS')
      })

      it('keys by Host, so a response built from another Host never reaches a plain request', async () => {
        const other = await send(app.url, '/reflect/host', { headers: { host: 'evil.example' } })
        expect(other.body).toContain('https://evil.example/x')
        const plain = await send(app.url, '/reflect/host')
        expect(plain.headers['x-cache']).toBe('MISS')
        expect(plain.body).not.toContain('evil')
      })

      it('answers malformed targets with a clear 4xx or a bypass, never a crash, and stores nothing for them', async () => {
        for (const target of ['/reflect/a?q=%zz', '/reflect/a?%E0%A4%A=1', '/reflect/%E0%A4%A', '/reflect/%zz', '/reflect/a?q=%']) {
          const reply = await send(app.url, target)
          expect(reply.status, target).toBeLessThan(500)
          if (reply.status < 400) expect(reply.headers['x-cache'], target).toBe('BYPASS')
        }
        expect((await send(app.url, '/reflect/after-malformed')).status).toBe(200)
      })

      it('answers over-long targets with a bypass or a clear 4xx, never a crash', async () => {
        const long = await send(app.url, `/reflect/long?pad=${'x'.repeat(9_000)}`)
        expect(long.status).toBe(200)
        expect(long.headers['x-cache']).toBe('BYPASS')
        const huge = await send(app.url, `/reflect/huge?pad=${'x'.repeat(20_000)}`)
        expect([414, 431]).toContain(huge.status)
        expect((await send(app.url, '/reflect/after-long')).status).toBe(200)
      })
    })

    describe('stampedes and failures', () => {
      it('runs the handler once for 50 concurrent requests to a cold URL, and gives them all its response', async () => {
        const page = counted(async (_req, n) => {
          await sleep(100)
          return { body: `slow #${n}` }
        })
        const { app } = await start({ routes: [{ method: 'GET', path: '/cold', cache: { entity: 'page' }, handler: page.handler }] })
        const replies = await Promise.all(Array.from({ length: 50 }, () => send(app.url, '/cold')))
        expect(page.calls()).toBe(1)
        expect(new Set(replies.map((r) => r.body))).toEqual(new Set(['slow #1']))
        expect(replies.filter((r) => r.headers['x-cache'] === 'MISS')).toHaveLength(1)
        expect(replies.filter((r) => r.headers['x-cache'] === 'HIT')).toHaveLength(49)
      })

      multiInstance('runs the handler once across two instances for concurrent requests to a cold URL', async () => {
        const namespace = uniqueNamespace()
        const page = counted(async (_req, n) => {
          await sleep(150)
          return { body: `fleet #${n}` }
        })
        const spec: AppSpec = { routes: [{ method: 'GET', path: '/fleet', cache: { entity: 'page' }, handler: page.handler }] }
        const one = await start(spec, ENTITIES, { namespace })
        const two = await start(spec, ENTITIES, { namespace })
        const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => send(i % 2 === 0 ? one.app.url : two.app.url, '/fleet')))
        expect(page.calls()).toBe(1)
        expect(new Set(replies.map((r) => r.body))).toEqual(new Set(['fleet #1']))
      })

      it('stores nothing for a 5xx', async () => {
        const page = counted((_req, n) => ({ status: 503, body: `down #${n}` }))
        const { app } = await start({
          routes: [{ method: 'GET', path: '/down', cache: { entity: 'page', statuses: [200, 404] }, handler: page.handler }],
        })
        expect((await send(app.url, '/down')).status).toBe(503)
        const second = await send(app.url, '/down')
        expect(second).toMatchObject({ status: 503, body: 'down #2' })
        expect(second.headers['x-cache']).toBe('MISS')
      })

      it('stores nothing when the handler throws, and the next request runs it again', async () => {
        const page = counted((_req, n) => {
          if (n === 1) throw new Error('database down')
          return { body: `ok #${n}` }
        })
        const { app } = await start({ routes: [{ method: 'GET', path: '/flaky', cache: { entity: 'page' }, handler: page.handler }] })
        expect((await send(app.url, '/flaky')).status).toBe(500)
        expect((await send(app.url, '/flaky')).body).toBe('ok #2')
        expect((await send(app.url, '/flaky')).headers['x-cache']).toBe('HIT')
        expect(page.calls()).toBe(2)
      })

      it('stores nothing when the client goes away before the response', async () => {
        const release = deferred()
        const started = deferred()
        const page = counted(async (_req, n) => {
          started.resolve()
          if (n === 1) await release.promise
          return { body: `done #${n}` }
        })
        const logger = debugLog()
        const { app } = await start({
          routes: [{ method: 'GET', path: '/abort', cache: { entity: 'page', logger }, handler: page.handler }],
        })
        const request = startRequest(app.url, '/abort')
        await started.promise
        request.abort()
        // Wait until the server has seen the client go (the capture fails as 'aborted'), not for a
        // fixed time: on a loaded machine the close can come after the handler's end, and then the
        // response is complete and cacheable.
        await vi.waitFor(() => expect(logger.reasons).toEqual(['aborted']), EVENTUALLY)
        release.resolve()
        const next = await send(app.url, '/abort')
        expect(next.body).toBe('done #2')
        expect(next.headers['x-cache']).toBe('MISS')
      })

      it('passes a streamed response through uncached', async () => {
        const page = counted((_req, n) => ({
          headers: { 'content-type': 'text/plain' },
          body: Readable.from([`chunk-a-${n} `, `chunk-b-${n}`]),
        }))
        const logger = debugLog()
        const { app } = await start({
          routes: [{ method: 'GET', path: '/stream', cache: { entity: 'page', logger }, handler: page.handler }],
        })
        const first = await send(app.url, '/stream')
        expect(first).toMatchObject({ status: 200, body: 'chunk-a-1 chunk-b-1' })
        expect(first.headers['x-cache']).toBe('MISS')
        // the capture is logged when the response has finished, which can be after the client read it
        await vi.waitFor(() => expect(logger.reasons).toEqual(['stream']), EVENTUALLY)
        const second = await send(app.url, '/stream')
        expect(second.body).toBe('chunk-a-2 chunk-b-2')
        expect(second.headers['x-cache']).toBe('MISS')
        expect(page.calls()).toBe(2)
        expectOnlyReason(logger, 'stream')
      })

      it('passes a body over maxBodyBytes through uncached', async () => {
        const page = counted((_req, n) => ({ body: `${n}`.padEnd(1_000, 'x') }))
        const logger = debugLog()
        const { app } = await start({
          routes: [{ method: 'GET', path: '/big', cache: { entity: 'page', maxBodyBytes: 100, logger }, handler: page.handler }],
        })
        expect((await send(app.url, '/big')).body).toHaveLength(1_000)
        await vi.waitFor(() => expect(logger.reasons).toEqual(['too-large']), EVENTUALLY)
        const second = await send(app.url, '/big')
        expect(second.body.startsWith('2')).toBe(true)
        expect(second.headers['x-cache']).toBe('MISS')
        expect(page.calls()).toBe(2)
        expectOnlyReason(logger, 'too-large')
      })

      it('stores binary bodies byte for byte', async () => {
        const bytes = Buffer.from([0, 255, 254, 1, 128, 10, 13])
        const { app } = await start({
          routes: [
            {
              method: 'GET',
              path: '/bin',
              cache: { entity: 'page' },
              handler: () => ({ headers: { 'content-type': 'application/octet-stream' }, body: bytes }),
            },
          ],
        })
        await send(app.url, '/bin')
        const hit = (await send(app.url, '/bin')).raw
        expect(hit.equals(bytes)).toBe(true)
      })
    })

    describe('stale-while-revalidate', () => {
      /** A route at `path` on entity `swr` (timing `swr`) answering `v<state.version>`, its calls counted, on a manual clock. */
      async function versionedPage(path: string, swr: { ttl: string; grace: string }) {
        const clock = new ManualClock()
        const state = { version: 1 }
        const page = counted(() => ({ body: `v${state.version}` }))
        const { app } = await start(
          { routes: [{ method: 'GET', path, cache: { entity: 'swr' }, handler: page.handler }] },
          { swr },
          { clock },
        )
        return { clock, page, app, state }
      }

      it('serves STALE within grace while the handler refreshes in the background, then the fresh response', async () => {
        const { clock, page, app, state } = await versionedPage('/swr', { ttl: '10s', grace: '1m' })
        expect((await send(app.url, '/swr')).body).toBe('v1')
        state.version = 2
        clock.advance(10_001)
        const stale = await send(app.url, '/swr')
        expect(stale.body).toBe('v1')
        expect(stale.headers['x-cache']).toBe('STALE')
        expect(Number(stale.headers.age)).toBe(10)
        await eventually(() => page.calls() === 2)
        await eventually(async () => (await send(app.url, '/swr')).body === 'v2')
        const fresh = await send(app.url, '/swr')
        expect(fresh.headers['x-cache']).toBe('HIT')
        expect(page.calls()).toBe(2)
      })

      it('past grace, waits for the handler', async () => {
        const { clock, app, state } = await versionedPage('/grace', { ttl: '10s', grace: '20s' })
        await send(app.url, '/grace')
        state.version = 2
        clock.advance(31_000)
        const reply = await send(app.url, '/grace')
        expect(reply.body).toBe('v2')
        expect(reply.headers['x-cache']).toBe('MISS')
      })

      it('serves the stale response when the handler fails within grace (fail-safe)', async () => {
        const clock = new ManualClock()
        let failing = false
        const page = counted((_req, n) => (failing ? { status: 500, body: 'broken' } : { body: `ok #${n}` }))
        const { app } = await start(
          { routes: [{ method: 'GET', path: '/fail-safe', cache: { entity: 'swr' }, handler: page.handler }] },
          { swr: { ttl: '10s', grace: '1m' } },
          { clock },
        )
        await send(app.url, '/fail-safe')
        failing = true
        clock.advance(10_001)
        const reply = await send(app.url, '/fail-safe')
        expect(reply).toMatchObject({ status: 200, body: 'ok #1' })
        expect(reply.headers['x-cache']).toBe('STALE')
      })
    })

    describe("the handler's cache policy (setCachePolicy)", () => {
      it('stores a response for the ttl its handler set (a 404 for 5 s), then produces it again', async () => {
        const clock = new ManualClock()
        const page = counted((req, n) =>
          req.params.id === 'gone' ? { status: 404, policy: { ttl: '5s' }, body: `not found #${n}` } : { body: `found #${n}` },
        )
        const { app } = await start(
          { routes: [{ method: 'GET', path: '/items/:id', cache: { entity: 'page', statuses: [200, 404] }, handler: page.handler }] },
          ENTITIES,
          { clock },
        )
        expect((await send(app.url, '/items/gone')).body).toBe('not found #1')
        expect((await send(app.url, '/items/here')).body).toBe('found #2')
        clock.advance(4_999)
        await expectAnswer(app.url, '/items/gone', { status: 404, body: 'not found #1' }, 'HIT')
        clock.advance(2)
        await expectAnswer(app.url, '/items/gone', { status: 404, body: 'not found #3' }, 'MISS')
        // the 200 keeps the entity's minute
        expect((await send(app.url, '/items/here')).headers['x-cache']).toBe('HIT')
        expect(page.calls()).toBe(3)
      })

      it('serves STALE past the ttl its handler set, within the grace it set, while it refreshes', async () => {
        const clock = new ManualClock()
        let version = 1
        const page = counted(() => ({ policy: { ttl: '10s', grace: '1m' }, body: `v${version}` }))
        const { app } = await start(
          { routes: [{ method: 'GET', path: '/news', cache: { entity: 'short' }, handler: page.handler }] },
          { short: { ttl: '1h' } },
          { clock },
        )
        expect((await send(app.url, '/news')).body).toBe('v1')
        version = 2
        clock.advance(10_001)
        const stale = await send(app.url, '/news')
        expect(stale.body).toBe('v1')
        expect(stale.headers['x-cache']).toBe('STALE')
        await eventually(async () => (await send(app.url, '/news')).body === 'v2')
      })

      it('keeps a response its handler declined out of the cache', async () => {
        const page = counted((_req, n) => ({ policy: false, body: `private-ish #${n}` }))
        const { app, cache } = await start({
          routes: [{ method: 'GET', path: '/declined', cache: { entity: 'page' }, handler: page.handler }],
        })
        const first = await send(app.url, '/declined')
        expect(first).toMatchObject({ status: 200, body: 'private-ish #1' })
        expect(first.headers['x-cache']).toBe('MISS')
        const second = await send(app.url, '/declined')
        expect(second.body).toBe('private-ish #2')
        expect(second.headers['x-cache']).toBe('MISS')
        expect(cache.stats().page?.uncacheableValues).toBe(0)
      })

      it('sends a response whose handler set a bad policy, caches nothing, and counts it', async () => {
        const page = counted((_req, n) => ({ policy: { ttl: 'a while' }, body: `body #${n}` }))
        const { app, cache } = await start({
          routes: [{ method: 'GET', path: '/bad-policy', cache: { entity: 'page' }, handler: page.handler }],
        })
        expect(await send(app.url, '/bad-policy')).toMatchObject({ status: 200, body: 'body #1' })
        const again = await send(app.url, '/bad-policy')
        expect(again).toMatchObject({ status: 200, body: 'body #2' })
        expect(again.headers['x-cache']).toBe('MISS')
        expect(cache.stats().page?.uncacheableValues).toBe(2)
      })
    })

    describe('invalidate-on-write', () => {
      function productRoutes(cache: TierCache, db: Map<string, string>): AppSpec {
        return {
          routes: [
            {
              method: 'GET',
              path: '/products/:id',
              cache: { entity: 'page', tags: (req: { params: Record<string, string> }) => [`product:${req.params.id}`] },
              handler: async (req) => ({
                body: (await cache.entity<string>('product').get(req.params.id as string, (id) => db.get(id))) ?? 'none',
              }),
            },
            {
              method: 'PUT',
              path: '/products/:id',
              invalidates: (req: { params: Record<string, string> }) => ({
                entities: { product: [req.params.id as string] },
                tags: [`product:${req.params.id}`],
              }),
              handler: (req) => {
                const id = req.params.id as string
                db.set(id, String(req.headers['x-name']))
                const fail = Number(req.headers['x-fail'] ?? 0)
                return fail > 0 ? { status: fail, body: 'failed' } : { status: 200, body: 'saved' }
              },
            },
          ],
        }
      }

      it('invalidates entity ids and tags before the 2xx response is sent: a read right after the write sees it', async () => {
        const db = new Map([['1', 'apple']])
        const cache = await testCache(ENTITIES, { l1Only })
        opened.push(cache)
        const app = await driver.start(cache, productRoutes(cache, db))
        opened.push(app)
        expect((await send(app.url, '/products/1')).body).toBe('apple')
        expect((await send(app.url, '/products/1')).headers['x-cache']).toBe('HIT')
        for (const name of ['pear', 'plum', 'fig']) {
          const write = await send(app.url, '/products/1', { method: 'PUT', headers: { 'x-name': name } })
          expect(write).toMatchObject({ status: 200, body: 'saved' })
          const read = await send(app.url, '/products/1')
          expect(read.body).toBe(name)
          expect(read.headers['x-cache']).toBe('MISS')
        }
      })

      it.each([400, 409, 500, 503])('invalidates nothing when the write answers %i', async (status) => {
        const db = new Map([['1', 'apple']])
        const cache = await testCache(ENTITIES, { l1Only })
        opened.push(cache)
        const app = await driver.start(cache, productRoutes(cache, db))
        opened.push(app)
        await send(app.url, '/products/1')
        const write = await send(app.url, '/products/1', { method: 'PUT', headers: { 'x-name': 'pear', 'x-fail': String(status) } })
        expect(write.status).toBe(status)
        const read = await send(app.url, '/products/1')
        expect(read.body).toBe('apple')
        expect(read.headers['x-cache']).toBe('HIT')
      })

      multiInstance('two app instances: a write on one is seen by a read on the other', async () => {
        const namespace = uniqueNamespace()
        const db = new Map([['1', 'apple']])
        const cacheA = await testCache(ENTITIES, { namespace })
        const cacheB = await testCache(ENTITIES, { namespace })
        opened.push(cacheA, cacheB)
        const appA = await driver.start(cacheA, productRoutes(cacheA, db))
        const appB = await driver.start(cacheB, productRoutes(cacheB, db))
        opened.push(appA, appB)
        expect((await send(appB.url, '/products/1')).body).toBe('apple')
        expect((await send(appA.url, '/products/1')).headers['x-cache']).toBe('HIT')
        expect((await send(appA.url, '/products/1', { method: 'PUT', headers: { 'x-name': 'pear' } })).status).toBe(200)
        // Instance B drops its in-process copies when the bus tells it (the latency bound itself is
        // fleet-coherence.test.ts's to check): wait for that, with a deadline fit for a loaded machine.
        await eventually(async () => (await send(appB.url, '/products/1')).body === 'pear')
        expect((await send(appA.url, '/products/1')).body).toBe('pear')
      })
    })

    describe('configuration', () => {
      it.each([
        [{ entity: 'page', statuses: [500] }, 'statuses'],
        [{ entity: 'page', statuses: { 200: true, 404: 'soon' } }, 'statuses.404'],
        [{ entity: 'page', varyHeaders: ['bad header'] }, 'varyHeaders.0'],
        [{ entity: 'page', headers: ['set-cookie'] }, 'headers.0'],
        [{ entity: 'page', maxBodyBytes: -1 }, 'maxBodyBytes'],
        [{ entity: 'page', ttl: '1m' }, 'unknown option "ttl"'],
        [{ entity: 'page', key: 'user' }, 'key'],
        [{ entity: 'product', tags: () => ['t'] }, 'does not tag its entries'],
      ])('rejects invalid options at registration with INVALID_CONFIG (%j)', async (options, path) => {
        const cache = await testCache(ENTITIES, { l1Only })
        opened.push(cache)
        const error = await driver
          .start(cache, { routes: [{ method: 'GET', path: '/bad', cache: options as never, handler: () => ({ body: 'x' }) }] })
          .then(
            (app) => {
              opened.push(app)
              return undefined
            },
            (e: unknown) => e,
          )
        expect(error).toBeInstanceOf(TierCacheError)
        expect((error as TierCacheError).code).toBe('INVALID_CONFIG')
        expect((error as TierCacheError).message).toContain(path)
      })

      it('rejects an entity the cache does not have with UNKNOWN_ENTITY', async () => {
        const cache = await testCache(ENTITIES, { l1Only })
        opened.push(cache)
        const error = await driver
          .start(cache, { routes: [{ method: 'GET', path: '/x', cache: { entity: 'nope' }, handler: () => ({ body: 'x' }) }] })
          .catch((e: unknown) => e)
        expect((error as TierCacheError).code).toBe('UNKNOWN_ENTITY')
      })
    })
  })
}
