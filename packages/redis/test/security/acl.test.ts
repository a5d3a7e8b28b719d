import { randomUUID } from 'node:crypto'
import { createCache, KeyBuilder, type TierCache, type TierCacheError } from '@tiercache/core'
import { RedisStandalone, rejectionOf, testCluster } from '@tiercache/testkit'
import { Cluster } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { redisClusterStore, redisStore } from '../../src/index.js'
import { eventually, recordingLogger } from '../engine/helpers.js'

/**
 * The rights of a cache user as the README's "ACL users" section gives them for namespace `ns`:
 * its keys, bus channel and wake channels only, and only the commands the store sends (plus the handshake
 * commands ioredis runs on connect, so nothing is printed about them).
 */
function cacheUserRules(ns: string, bus: 'publish' | 'spublish' = 'publish'): string[] {
  const pubsub = bus === 'publish' ? ['publish', 'subscribe', 'unsubscribe'] : ['spublish', 'ssubscribe', 'sunsubscribe']
  const commands = ['get', 'mget', 'set', 'unlink', 'del', 'pttl', 'pexpire', 'evalsha', 'eval', ...pubsub]
  const handshake = ['ping', 'info', 'client|setname', 'cluster|slots', 'cluster|info']
  return [
    'resetkeys',
    `~{${ns}:*`,
    `~{${ns}!*`,
    `~${ns}:*`,
    'resetchannels',
    `&{${ns}}!bus`,
    `&{${ns}}!wake:*`,
    '-@all',
    ...[...commands, ...handshake].map((command) => `+${command}`),
  ]
}

const NS = 'shop'
const PASSWORD = `pw-${randomUUID()}`
let node: RedisStandalone

async function setUser(name: string, rules: string[]): Promise<void> {
  await node.command(['ACL', 'SETUSER', name, 'reset', 'on', `>${PASSWORD}`, ...rules])
}

beforeAll(async () => {
  // A node of our own: the users below must not leak into other test files.
  node = await RedisStandalone.start()
  await setUser('shop', cacheUserRules(NS))
  // may read, may not write
  await setUser(
    'reader',
    cacheUserRules(NS).filter((r) => !['+set', '+unlink', '+del', '+evalsha', '+eval'].includes(r)),
  )
  // every command of the cache but GET, which the scripts run too
  await setUser(
    'no-get',
    cacheUserRules(NS).filter((r) => r !== '+get'),
  )
  // every command, but another application's keys
  await setUser('stranger', ['resetkeys', '~other:*', 'resetchannels', `&{${NS}}!bus`, '+@all'])
  // keys and commands, but not the bus channel
  await setUser(
    'deaf',
    cacheUserRules(NS).map((r) => (r.startsWith('&') ? '&{other}!bus' : r)),
  )
}, 30_000)

afterAll(async () => {
  await node?.stop()
})

function cacheAs(username: string, password = PASSWORD, logger = recordingLogger()): TierCache {
  return createCache({
    namespace: NS,
    logger,
    l2: redisStore({ host: '127.0.0.1', port: node.port, username, password, bus: 'publish' }),
    entities: { product: { ttl: '1m', l1: false, tags: (_id, value) => [`brand:${(value as { brand: string }).brand}`] } },
  })
}

/** Redis 7.0 says `this user has no permissions`, 7.2 and later `User <name> has no permissions`. */
function noPermToSet(message: string): string {
  const reply = /NOPERM (this user|User \S+) has no permissions to run the 'set' command/.exec(message)?.[0]
  if (reply === undefined) throw new Error(`no NOPERM reply about 'set' in: ${message}`)
  return reply
}

const NOPERM_HINT = 'the Redis user lacks a right the cache needs; see "ACL users" in the @tiercache/redis README for what to grant'

describe('ACL users on a standalone Redis', () => {
  it('a user with the rights the README documents runs every operation of the cache with no L2 error', async () => {
    const [a, b] = [cacheAs('shop'), cacheAs('shop')]
    await Promise.all([a.ready(), b.ready()])
    const load = async (id: string) => ({ id, brand: 'acme' })
    expect(await a.entity('product').get('1', load)).toEqual({ id: '1', brand: 'acme' })
    expect(await b.entity('product').getMany(['1', '2'], async (ids) => ids.map((id) => ({ id, brand: 'acme' })))).toHaveLength(2)
    await b.entity('product').set('3', { id: '3', brand: 'acme' })
    await a.entity('product').invalidate('1')
    await a.invalidateTag('brand:acme')
    expect(await b.entity('product').get('2', async () => ({ id: '2', brand: 'new' }))).toEqual({ id: '2', brand: 'new' })
    for (const cache of [a, b]) expect(cache.stats().product?.l2Errors).toBe(0)
    expect(b.stats().product?.l2Hits).toBeGreaterThan(0)
    // the probe left nothing behind
    expect(await node.command(['EXISTS', `{${NS}:!ready}`])).toBe(0)
    await Promise.all([a.close(), b.close()])
  })

  it('a wrong password: ready() rejects at once with L2_AUTH and the server words, and the refusal is logged at startup', async () => {
    const logger = recordingLogger()
    const cache = cacheAs('shop', 'not-the-password', logger)
    const error = await rejectionOf<TierCacheError>(cache.ready())
    expect(error.code).toBe('L2_AUTH')
    expect(error.message).toBe(
      `L2_AUTH: Redis at 127.0.0.1:${node.port} refused this client: WRONGPASS invalid username-password pair or user is disabled; check username and password`,
    )
    await eventually(() => logger.records.some((r) => r.level === 'error'))
    // reads go on without L2
    expect(await cache.entity('product').get('1', async () => ({ id: '1', brand: 'b' }))).toEqual({ id: '1', brand: 'b' })
    await cache.close()
  })

  it('an unknown user is refused like a wrong password', async () => {
    const cache = cacheAs('nobody')
    const error = await rejectionOf<TierCacheError>(cache.ready())
    expect(error.code).toBe('L2_AUTH')
    expect(error.message).toContain('WRONGPASS')
    await cache.close()
  })

  it('a user whose scripts may not run a command they need: ready() rejects with L2_AUTH and the ACL hint, not after its timeout', async () => {
    const cache = cacheAs('no-get')
    const error = await rejectionOf<TierCacheError>(cache.ready())
    expect(error.code).toBe('L2_AUTH')
    expect(error.message).toMatch(
      new RegExp(
        `^L2_AUTH: Redis at 127\\.0\\.0\\.1:${node.port} refused this client: ERR The user executing the script can't run this command or subcommand script: [0-9a-f]{40}, on @user_script:\\d+; ${NOPERM_HINT.replace(/[.()"]/g, '\\$&')}$`,
      ),
    )
    await cache.close()
  })

  it('a user that may read but not write: ready() rejects with L2_AUTH naming the refused command', async () => {
    const cache = cacheAs('reader')
    const error = await rejectionOf<TierCacheError>(cache.ready())
    expect(error.message).toBe(
      `L2_AUTH: Redis at 127.0.0.1:${node.port} refused this client: ${noPermToSet(error.message)}; ${NOPERM_HINT}`,
    )
    await cache.close()
  })

  // Redis 7.0 and 7.2+ word the NOPERM replies differently.
  it.each([
    {
      name: 'a user whose key patterns do not cover the namespace: ready() rejects with L2_AUTH about the keys',
      user: 'stranger',
      reply: 'NOPERM (this user has no permissions to access one of the keys used as arguments|No permissions to access a key)',
    },
    {
      name: 'a user without the bus channel: ready() rejects with L2_AUTH about the channel',
      user: 'deaf',
      reply: 'NOPERM (this user has no permissions to access one of the channels used as arguments|No permissions to access a channel)',
    },
  ])('$name', async ({ user, reply }) => {
    const cache = cacheAs(user)
    const error = await rejectionOf<TierCacheError>(cache.ready())
    expect(error.message).toMatch(new RegExp(`^L2_AUTH: Redis at 127\\.0\\.0\\.1:${node.port} refused this client: ${reply}; `))
    expect(error.message.endsWith(NOPERM_HINT)).toBe(true)
    await cache.close()
  })

  it('without ready(), a user without write rights is not silent either: the L2 failure is logged with the NOPERM reply', async () => {
    const logger = recordingLogger()
    const cache = cacheAs('reader', PASSWORD, logger)
    expect(await cache.entity('product').get('1', async () => ({ id: '1', brand: 'b' }))).toEqual({ id: '1', brand: 'b' })
    const warning = logger.records.find((r) => r.level === 'warn' && r.msg === 'L2 call failed; served without L2')
    expect((warning?.obj.err as Error | undefined)?.message).toMatch(/^NOPERM /)
    expect(cache.stats().product?.l2Errors).toBeGreaterThan(0)
    await cache.close()
  })
})

describe('ACL users on a Redis Cluster', () => {
  const ns = `acl${randomUUID().slice(0, 6)}`
  const password = `pw-${randomUUID()}`
  const user = `cache-${ns}`
  const readOnly = `reader-${ns}`

  beforeAll(async () => {
    const cluster = testCluster()
    const rules = cacheUserRules(ns, 'spublish')
    for (const seed of cluster.seeds()) {
      await cluster.command(seed.port, ['ACL', 'SETUSER', user, 'reset', 'on', `>${password}`, ...rules])
      await cluster.command(seed.port, ['ACL', 'SETUSER', readOnly, 'reset', 'on', `>${password}`, ...rules.filter((r) => r !== '+set')])
    }
  })

  afterAll(async () => {
    // leaves the shared cluster as it found it
    const cluster = testCluster()
    for (const seed of cluster.seeds()) await cluster.command(seed.port, ['ACL', 'DELUSER', user, readOnly]).catch(() => {})
  })

  function clusterCache(pass: string, username = user): TierCache {
    return createCache({
      namespace: ns,
      l2: redisClusterStore({ nodes: testCluster().seeds(), bus: 'spublish', redisOptions: { username, password: pass } }),
      entities: { product: { ttl: '1m', l1: false, hot: { keys: ['viral'], l1Ttl: 0 } } },
    })
  }

  it('a user with the documented rights (sharded bus) on every node runs reads, hot-key replicas and invalidation with no L2 error', async () => {
    const [a, b] = [clusterCache(password), clusterCache(password)]
    await Promise.all([a.ready(), b.ready()])
    expect(await a.entity('product').get('viral', async () => 'v1')).toBe('v1')
    const admin = new Cluster(testCluster().seeds())
    const keys = new KeyBuilder(ns, 'product')
    // the replicas were written by the user's scripts
    await eventually(
      async () => (await admin.exists(keys.replicaKey('viral', 0))) === 1 || (await admin.exists(keys.valueKey('viral'))) === 1,
    )
    expect(await b.entity('product').get('viral', async () => 'not this')).toBe('v1')
    await b.entity('product').invalidate('viral')
    expect(await a.entity('product').get('viral', async () => 'v2')).toBe('v2')
    for (const cache of [a, b]) expect(cache.stats().product?.l2Errors).toBe(0)
    await admin.quit()
    await Promise.all([a.close(), b.close()])
  })

  it('a user without a right on the cluster: ready() rejects with L2_AUTH naming the refused command', async () => {
    const cache = clusterCache(password, readOnly)
    const error = await rejectionOf<TierCacheError>(cache.ready())
    expect(error.message).toBe(`L2_AUTH: the Redis cluster refused this client: ${noPermToSet(error.message)}; ${NOPERM_HINT}`)
    await cache.close()
  })

  it('a wrong password: ready() rejects with L2_AUTH naming a node', async () => {
    const cache = clusterCache('wrong')
    const error = await rejectionOf<TierCacheError>(cache.ready())
    expect(error.code).toBe('L2_AUTH')
    expect(error.message).toMatch(
      /^L2_AUTH: Redis at 127\.0\.0\.1:\d+ refused this client: WRONGPASS invalid username-password pair or user is disabled; check username and password$/,
    )
    await cache.close()
  })
})
