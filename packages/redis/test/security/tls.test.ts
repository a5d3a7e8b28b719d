import { createCache, KeyBuilder, type TierCache, type TierCacheError } from '@tiercache/core'
import { RedisStandalone, rejectionOf } from '@tiercache/testkit'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { type RedisStoreHostOptions, redisStore } from '../../src/index.js'
import { eventually, recordingLogger, uniqueNamespace } from '../engine/helpers.js'
import { generateCertificates, type TestCertificates } from './certificates.js'

// Two TLS nodes of our own: one that only encrypts, one that also wants client certificates.
let certs: TestCertificates
let server: RedisStandalone
let mutual: RedisStandalone

beforeAll(async () => {
  certs = generateCertificates()
  const tls = { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, caCertFile: certs.caCertFile }
  ;[server, mutual] = await Promise.all([RedisStandalone.start({ tls }), RedisStandalone.start({ tls: { ...tls, authClients: true } })])
}, 30_000)

afterAll(async () => {
  await Promise.all([server?.stop(), mutual?.stop()])
  certs?.remove()
})

function tlsPort(node: RedisStandalone): number {
  const port = node.tlsPort
  if (port === undefined) throw new Error('started without TLS')
  return port
}

function cacheOn(node: RedisStandalone, store: Omit<RedisStoreHostOptions, 'host' | 'port'>, logger = recordingLogger()): TierCache {
  return createCache({
    namespace: uniqueNamespace(),
    logger,
    l2: redisStore({ host: '127.0.0.1', port: tlsPort(node), ...store }),
    entities: { product: { ttl: '1m', l1: false } },
  })
}

/** `cache.ready()` rejects with `L2_AUTH` and a message matching `message`; then the cache is closed. */
async function expectRefusedAtReady(cache: TierCache, message: RegExp): Promise<void> {
  const error = await rejectionOf<TierCacheError>(cache.ready())
  expect(error.code).toBe('L2_AUTH')
  expect(error.message).toMatch(message)
  await cache.close()
}

describe('TLS to Redis', () => {
  it('serves a cache end to end over TLS when the client trusts the CA: one instance loads, another reads it from L2', async () => {
    const ca = certs.read(certs.caCertFile)
    const namespace = uniqueNamespace()
    const make = () =>
      createCache({
        namespace,
        l2: redisStore({ host: '127.0.0.1', port: tlsPort(server), tls: { ca } }),
        entities: { product: { ttl: '1m', l1: false } },
      })
    const [a, b] = [make(), make()]
    await Promise.all([a.ready(), b.ready()])
    expect(await a.entity('product').get('42', async (id) => ({ id, name: 'lamp' }))).toEqual({ id: '42', name: 'lamp' })
    const loader = vi.fn(async () => 'not this')
    expect(await b.entity('product').get('42', loader)).toEqual({ id: '42', name: 'lamp' })
    expect(loader).not.toHaveBeenCalled()
    expect(b.stats().product).toMatchObject({ l2Hits: 1, l2Errors: 0 })
    // the value went through the TLS port into this very server (read back over its plain port)
    const raw = await server.command(['GET', new KeyBuilder(namespace, 'product').valueKey('42')])
    expect(String(raw)).toMatch(/^tc1\|v\|/)
    await a.entity('product').invalidate('42')
    expect(await b.entity('product').get('42', async () => 'reloaded')).toBe('reloaded')
    await Promise.all([a.close(), b.close()])
  })

  it('rejects ready() with L2_AUTH naming the TLS failure when the client does not trust the server certificate', async () => {
    const logger = recordingLogger()
    const cache = cacheOn(server, { tls: {} }, logger)
    // ready() keeps waiting while Redis is merely unreachable: that it rejects at all shows the
    // refusal was recognised as one (waiting does not make a certificate trusted). No clock is
    // read: how soon it rejects depends on the machine, not on the cache.
    const error = await rejectionOf<TierCacheError>(cache.ready())
    expect(error.code).toBe('L2_AUTH')
    expect(error.message).toMatch(
      new RegExp(
        `^L2_AUTH: TLS with Redis at 127\\.0\\.0\\.1:${tlsPort(server)} failed: self[- ]signed certificate in certificate chain \\(SELF_SIGNED_CERT_IN_CHAIN\\)\\. Check tls\\.ca`,
      ),
    )
    // the same refusal is in the log at startup, once
    const errors = logger.records.filter((r) => r.level === 'error')
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatchObject({ msg: 'L2 refused this cache; reads miss L2 until this is fixed', obj: { err: { code: 'L2_AUTH' } } })
    // reads still work: L2 errors never reach the caller
    expect(await cache.entity('product').get('1', async () => 'from the loader')).toBe('from the loader')
    await cache.close()
  })

  it('logs the refusal at startup even when nobody calls ready()', async () => {
    const logger = recordingLogger()
    const cache = cacheOn(server, { tls: {} }, logger)
    await eventually(() => logger.records.some((r) => r.level === 'error'))
    expect(logger.records.filter((r) => r.level === 'error').map((r) => (r.obj.err as TierCacheError).code)).toEqual(['L2_AUTH'])
    await cache.close()
  })

  it('refuses a server certificate signed by a CA other than the one given in tls.ca', async () => {
    const cache = cacheOn(server, { tls: { ca: certs.read(certs.otherCaCertFile) } })
    await expectRefusedAtReady(
      cache,
      /^L2_AUTH: TLS with Redis at 127\.0\.0\.1:\d+ failed: .*\((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\)\. Check tls\.ca/,
    )
  })

  it('a server that wants client certificates serves a client presenting one signed by its CA', async () => {
    const cache = cacheOn(mutual, {
      tls: { ca: certs.read(certs.caCertFile), cert: certs.read(certs.clientCertFile), key: certs.read(certs.clientKeyFile) },
    })
    await cache.ready()
    expect(await cache.entity('product').get('1', async () => 'v')).toBe('v')
    expect(cache.stats().product?.l2Errors).toBe(0)
    await cache.close()
  })

  it('a server that wants client certificates refuses a client without one: L2_AUTH from ready()', async () => {
    const cache = cacheOn(mutual, { tls: { ca: certs.read(certs.caCertFile) } })
    await expectRefusedAtReady(
      cache,
      /^L2_AUTH: TLS with Redis at 127\.0\.0\.1:\d+ failed: tlsv13 alert certificate required \(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED\)\. Check/,
    )
  })

  it('a plain-TCP client on the TLS port is not ready within the timeout: L2_UNAVAILABLE with the last error', async () => {
    const store = redisStore({ host: '127.0.0.1', port: tlsPort(server) })
    const error = await store.ready({ timeoutMs: 500 }).then(
      () => undefined,
      (e: unknown) => e as TierCacheError,
    )
    expect(error?.code).toBe('L2_UNAVAILABLE')
    expect(error?.message).toMatch(/^L2_UNAVAILABLE: Redis is not ready: not connected within the timeout; last error: /)
    await store.close()
  })
})
