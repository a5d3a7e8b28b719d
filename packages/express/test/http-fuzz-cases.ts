/**
 * Fuzz-style cases over HTTP inputs, shared by the Express and Fastify tests: seeded random
 * paths (unicode, percent-escapes valid and broken, dots, slashes), query strings (repeated,
 * reordered, unknown and malformed parameters) and headers (forwarding headers a handler may
 * reflect, credentials) sent to one cached route. Properties checked on every reply: the server
 * answers (no crash, no 5xx), a cached reply always belongs to the keyed inputs of the request
 * that receives it (no cross-key leak), and a reflected forwarding header never reaches a request
 * that did not send it (no poisoning). Deterministic: the same seed gives the same requests.
 */
import { seeded } from '@tiercache/testkit'
import { describe, expect, it } from 'vitest'
import { type HttpDriver, type RunningApp, send, testCache } from './http-harness.js'

const PIECES = [
  'a',
  'b',
  '1',
  '2',
  'é',
  '😀',
  '%41',
  '%zz',
  '%',
  '%2F',
  '..',
  '.',
  '-',
  '_',
  '~',
  '%00',
  '%E2%82',
  'x y',
  '{',
  '}',
  ';',
  ':',
]
const QUERY_NAMES = ['q', 'Q', 'q[]', 'other', 'utm_source', '', '%71', 'q%00']
const EVIL = 'evil.example'

function pick<T>(random: () => number, list: readonly T[]): T {
  return list[Math.floor(random() * list.length)] as T
}

function segment(random: () => number): string {
  const length = 1 + Math.floor(random() * 4)
  let text = ''
  for (let i = 0; i < length; i++) text += pick(random, PIECES)
  return text
}

interface FuzzRequest {
  target: string
  headers: Record<string, string>
}

function fuzzRequest(random: () => number): FuzzRequest {
  let target = `/fz/${encodeURI(segment(random)).replace(/%25/g, '%')}`
  const params: string[] = []
  const count = Math.floor(random() * 4)
  for (let i = 0; i < count; i++) params.push(`${pick(random, QUERY_NAMES)}=${encodeURI(segment(random)).replace(/%25/g, '%')}`)
  if (params.length > 0) target += `?${params.join(random() < 0.1 ? '&&' : '&')}`
  const headers: Record<string, string> = {}
  const roll = random()
  if (roll < 0.15) headers['x-forwarded-host'] = EVIL
  else if (roll < 0.2) headers['x-original-url'] = `/${EVIL}`
  else if (roll < 0.25) headers.authorization = `Bearer ${Math.floor(random() * 3)}`
  return { target, headers }
}

export function describeHttpFuzzCases(driver: HttpDriver): void {
  describe(`${driver.name}: fuzzed HTTP inputs`, () => {
    it('answers 400 requests of random paths, queries and headers without a crash, a leak or a poisoned reply', async () => {
      const cache = await testCache({ page: { ttl: '1m' } })
      let app: RunningApp | undefined
      try {
        app = await driver.start(cache, {
          routes: [
            {
              method: 'GET',
              path: '/fz/:id',
              cache: { entity: 'page', query: ['q'] },
              // Reflects its keyed inputs and the forwarding headers, as a careless handler would.
              handler: (req) => ({
                headers: { 'content-type': 'application/json' },
                body: {
                  id: req.params.id ?? null,
                  q: req.query.q ?? null,
                  host: req.headers['x-forwarded-host'] ?? null,
                  original: req.headers['x-original-url'] ?? null,
                },
              }),
            },
          ],
        })
        const random = seeded(20261125)
        const seenByKey = new Map<string, string>()
        for (let i = 0; i < 400; i++) {
          const request = fuzzRequest(random)
          const reply = await send(app.url, request.target, { headers: request.headers })
          expect(reply.status, `${request.target} ${JSON.stringify(request.headers)}`).toBeLessThan(500)
          if (reply.status !== 200) continue
          const body = JSON.parse(reply.body) as { id: string | null; q: unknown; host: string | null; original: string | null }
          const sentForwarding = request.headers['x-forwarded-host'] !== undefined || request.headers['x-original-url'] !== undefined
          if (!sentForwarding) {
            // never the reflection of another request's forwarding header
            expect(body.host, request.target).toBeNull()
            expect(body.original, request.target).toBeNull()
          }
          // The reply belongs to this request's keyed inputs: the same (id, q) always gets the
          // same reply, and a cached reply is never one made for another (id, q).
          if (reply.headers['x-cache'] === 'HIT' || reply.headers['x-cache'] === 'MISS') {
            const key = JSON.stringify([body.id, body.q])
            const previous = seenByKey.get(key)
            if (previous !== undefined) expect(reply.body, request.target).toBe(previous)
            seenByKey.set(key, reply.body)
            const again = await send(app.url, request.target)
            if (again.status === 200 && again.headers['x-cache'] !== 'BYPASS') expect(again.body, request.target).toBe(reply.body)
          }
        }
        expect(seenByKey.size).toBeGreaterThan(20)
      } finally {
        await app?.close()
        await cache.close()
      }
    }, 60_000)
  })
}
