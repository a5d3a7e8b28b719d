import { tierCacheErrorOf } from '@tiercache/testkit/helpers'
import { Cluster, Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { DEFAULT_CLUSTER_STORE_OPTIONS, DEFAULT_STANDALONE_STORE_OPTIONS, redisClusterStore, redisStore } from '../src/index.js'
import { resolveClusterStoreOptions } from '../src/options/cluster-store-options.js'
import { resolveStandaloneStoreOptions } from '../src/options/standalone-store-options.js'

describe('redisClusterStore options', () => {
  it.each([
    ['no nodes', {}, 'nodes'],
    ['an empty node list', { nodes: [] }, 'nodes: give at least one seed node'],
    ['a node without a port', { nodes: [{ host: '127.0.0.1' }] }, 'nodes[0]'],
    ['a port out of range', { nodes: [{ host: '127.0.0.1', port: 70000 }] }, 'nodes[0]'],
    ['an unknown bus', { nodes: ['127.0.0.1:7000'], bus: 'kafka' }, 'bus'],
    ['a zero command timeout', { nodes: ['127.0.0.1:7000'], commandTimeoutMs: 0 }, 'commandTimeoutMs'],
    ['a keyPrefix', { nodes: ['127.0.0.1:7000'], keyPrefix: 'app:' }, 'keyPrefix: keyPrefix is not supported'],
    ['a node keyPrefix', { nodes: ['127.0.0.1:7000'], redisOptions: { keyPrefix: 'app:' } }, 'redisOptions.keyPrefix'],
    ['a non-string password', { nodes: ['127.0.0.1:7000'], redisOptions: { password: 42 } }, 'redisOptions.password'],
    ['shardedSubscribers', { nodes: ['127.0.0.1:7000'], shardedSubscribers: true }, "bus: 'spublish'"],
    ['a scaleReads typo', { nodes: ['127.0.0.1:7000'], scaleReads: 'replica' }, 'scaleReads'],
    ['a standalone client', { client: new Redis({ lazyConnect: true }) }, 'client: expected an ioredis Cluster'],
    ['a client next to nodes', { client: new Cluster([], { lazyConnect: true }), nodes: ['127.0.0.1:7000'] }, 'nodes'],
  ])('rejects %s with INVALID_CONFIG naming the field', (_, options, expected) => {
    const error = tierCacheErrorOf('INVALID_CONFIG', () => redisClusterStore(options as never))
    expect(error.message).toContain('invalid redisClusterStore options')
    expect(error.message).toContain(expected)
  })

  it('rejects a passed-in client that uses keyPrefix', () => {
    const client = new Cluster([], { lazyConnect: true, keyPrefix: 'app:' })
    expect(tierCacheErrorOf('INVALID_CONFIG', () => redisClusterStore({ client })).message).toContain('keyPrefix')
  })

  it('fills defaults in one place and lets user fields win', () => {
    const resolved = resolveClusterStoreOptions({
      nodes: ['127.0.0.1:7000', { host: '127.0.0.2', port: 7001 }],
      scaleReads: 'all',
      redisOptions: { password: 'secret' },
      commandTimeoutMs: 250,
    })
    if (resolved.kind !== 'nodes') throw new Error('expected nodes mode')
    expect(resolved.bus).toBe('spublish')
    expect(resolved.nodes).toEqual(['127.0.0.1:7000', { host: '127.0.0.2', port: 7001 }])
    expect(resolved.clusterOptions).toMatchObject({
      enableAutoPipelining: true,
      enableOfflineQueue: DEFAULT_CLUSTER_STORE_OPTIONS.enableOfflineQueue,
      scaleReads: 'all',
      redisOptions: { password: 'secret', maxRetriesPerRequest: 1, connectionName: 'tiercache', commandTimeout: 250 },
    })
    expect(resolved.clusterOptions).not.toHaveProperty('bus')
  })
})

describe('redisStore options', () => {
  it.each([
    ['a port out of range', { port: 0 }, 'port'],
    ['a non-redis URL', { url: 'http://cache:6379' }, 'url: expected a redis:// or rediss:// URL'],
    ['a URL next to a host', { url: 'redis://cache:6379', host: 'other' }, 'url: give either url or host/port'],
    ['a negative db', { db: -1 }, 'db'],
    ['a keyPrefix', { keyPrefix: 'app:' }, 'keyPrefix'],
    ['an unknown bus', { bus: 'sharded' }, 'bus'],
    ['a cluster client', { client: new Cluster([], { lazyConnect: true }) }, 'client: expected an ioredis Redis client'],
    ['a client next to a host', { client: new Redis({ lazyConnect: true }), host: 'cache' }, 'host'],
  ])('rejects %s with INVALID_CONFIG naming the field', (_, options, expected) => {
    const error = tierCacheErrorOf('INVALID_CONFIG', () => redisStore(options as never))
    expect(error.message).toContain('invalid redisStore options')
    expect(error.message).toContain(expected)
  })

  it('fills defaults in one place and lets user fields win', () => {
    const resolved = resolveStandaloneStoreOptions({ url: 'rediss://cache:6380/2', maxRetriesPerRequest: 3, bus: 'spublish' })
    if (resolved.kind !== 'connect') throw new Error('expected connect mode')
    expect(resolved.bus).toBe('spublish')
    expect(resolved.url).toBe('rediss://cache:6380/2')
    expect(resolved.redisOptions).toEqual({ ...withoutBus(DEFAULT_STANDALONE_STORE_OPTIONS), maxRetriesPerRequest: 3 })
  })
})

function withoutBus<T extends { bus: unknown }>(options: T): Omit<T, 'bus'> {
  const { bus: _bus, ...rest } = options
  return rest
}
