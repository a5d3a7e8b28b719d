import { randomUUID } from 'node:crypto'
import { createCache, type Logger, type TierCache } from '@tiercache/core'
import { RedisStandalone } from '@tiercache/testkit'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { redisStore } from '../../src/index.js'
import { eventually, recordingLogger, uniqueNamespace } from '../engine/helpers.js'
import { generateCertificates, type TestCertificates } from './certificates.js'

const PASSWORD = `pw-${randomUUID()}`
const WRONG_PASSWORD = `wrong-${randomUUID()}`
let certs: TestCertificates
let node: RedisStandalone

beforeAll(async () => {
  certs = generateCertificates()
  node = await RedisStandalone.start({
    tls: { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, caCertFile: certs.caCertFile },
  })
  await addUser()
}, 30_000)

afterAll(async () => {
  await node?.stop()
  certs?.remove()
})

/** The node keeps no state across a restart, so the user is added again after one. */
async function addUser(): Promise<void> {
  await node.command(['ACL', 'SETUSER', 'app', 'on', `>${PASSWORD}`, '~*', '&*', '+@all'])
}

/**
 * Every string reachable from `value`: own properties of objects and errors (enumerable or not,
 * so `message`, `stack` and `cause` too), array items, Buffers as text. What a log transport
 * could write, whatever its serializers.
 */
function everythingIn(value: unknown, seen = new WeakSet<object>()): string {
  if (value === null || value === undefined) return ''
  if (typeof value !== 'object' && typeof value !== 'function') return String(value)
  if (seen.has(value)) return ''
  seen.add(value)
  if (Buffer.isBuffer(value)) return value.toString('utf8')
  const parts: string[] = []
  for (const key of Object.getOwnPropertyNames(value)) {
    let item: unknown
    try {
      item = (value as Record<string, unknown>)[key]
    } catch {
      continue
    }
    parts.push(key, everythingIn(item, seen))
  }
  return parts.join(' ')
}

/** A logger that hands everything to both the recording logger and pino. */
function tee(a: Logger, b: Logger): Logger {
  const both =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (obj: object, msg?: string): void => {
      a[level](obj, msg)
      b[level](obj, msg)
    }
  return {
    debug: both('debug'),
    info: both('info'),
    warn: both('warn'),
    error: both('error'),
    child: (bindings) => tee(a.child(bindings), b.child(bindings)),
  }
}

function secretsIn(text: string): string[] {
  const keyBody = certs.read(certs.clientKeyFile).toString('utf8').split('\n')[1] as string
  const found: string[] = []
  if (text.includes(PASSWORD)) found.push('the password')
  if (text.includes(WRONG_PASSWORD)) found.push('the wrong password')
  if (text.includes(certs.clientKeyFile)) found.push('the client key path')
  if (text.includes(keyBody)) found.push('the client key')
  return found
}

describe('secrets are never logged', () => {
  it('the check would catch a leak: a raw ioredis AUTH error carries the password it sent', async () => {
    const client = new Redis({ host: '127.0.0.1', port: node.port, username: 'app', password: WRONG_PASSWORD, lazyConnect: true })
    const error = await new Promise<unknown>((resolve) => {
      client.once('error', resolve)
      client.connect().catch(() => {})
    })
    client.disconnect()
    expect(secretsIn(everythingIn(error))).toEqual(['the wrong password'])
    const lines: string[] = []
    pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) }).error({ err: error }, 'leak')
    expect(secretsIn(lines.join(''))).toEqual(['the wrong password'])
  })

  it('with a password and TLS keys configured, nothing logged through start-up, refusals, a dead server, recovery and close holds a secret', async () => {
    const recording = recordingLogger()
    const lines: string[] = []
    const logger = tee(recording, pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) }))
    const tls = { ca: certs.read(certs.caCertFile), cert: certs.read(certs.clientCertFile), key: certs.read(certs.clientKeyFile) }
    const make = (password: string): TierCache =>
      createCache({
        namespace: uniqueNamespace(),
        logger,
        breaker: { failures: 2, coolDown: '200ms', probes: 1 },
        l2: redisStore({ host: '127.0.0.1', port: node.tlsPort as number, username: 'app', password, tls, logger }),
        entities: { product: { ttl: '1m', l1: { ttl: '1s' }, tags: () => ['t'] } },
      })

    // start-up: one cache with the right password, one with a wrong one
    const good = make(PASSWORD)
    await good.ready()
    const refused = make(WRONG_PASSWORD)
    const refusal = await refused.ready().catch((error: unknown) => error)
    // what an application would do with the rejection: log it
    logger.error({ err: refusal }, 'cache not ready')
    await eventually(() => recording.records.some((r) => r.msg === 'L2 refused this cache; reads miss L2 until this is fixed'))
    const products = good.entity<string>('product')
    await products.get('1', async () => 'v1')
    await products.invalidate('1')
    await good.invalidateTag('t')

    // the server dies: reads, writes and invalidations fail against it, the breaker opens
    await node.kill()
    for (let i = 0; i < 5; i++) await products.get(`dead-${i}`, async () => 'loaded')
    await products.set('2', 'v2')
    await products.invalidate('2')
    await eventually(() => good.breakerState() === 'open')

    // it comes back empty (no user yet: the reconnects are refused), then with the user
    await node.restart()
    await eventually(() => recording.records.some((r) => r.level === 'warn' && String(r.msg).includes('bus')))
    await addUser()
    await eventually(async () => {
      await products.get(`back-${Date.now()}`, async () => 'loaded')
      return good.breakerState() === 'closed'
    })

    await Promise.all([good.close(), refused.close()])

    // the scenario did log failures with their errors: a leak had its chances
    const levels = recording.records.map((r) => r.level)
    expect(levels).toContain('error')
    expect(recording.records.some((r) => r.level === 'warn' && r.obj.err !== undefined)).toBe(true)
    expect(lines.length).toBeGreaterThan(5)
    expect(secretsIn(everythingIn(recording.records))).toEqual([])
    expect(secretsIn(lines.join(''))).toEqual([])
  }, 30_000)
})
