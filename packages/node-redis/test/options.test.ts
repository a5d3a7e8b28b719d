import { createClient, createCluster } from '@redis/client'
import { tierCacheErrorOf } from '@tiercache/testkit/helpers'
import { describe, expect, it } from 'vitest'
import { nodeRedisClusterStore, nodeRedisStore } from '../src/index.js'

describe('nodeRedisClusterStore options', () => {
  it.each([
    ['no nodes', {}, 'nodes: '],
    ['an empty node list', { nodes: [] }, 'nodes: give at least one seed node'],
    ['a node without a port', { nodes: ['127.0.0.1'] }, 'nodes[0]: '],
    ['a port out of range', { nodes: [{ host: '127.0.0.1', port: 70000 }] }, 'nodes[0]'],
    ['an unknown bus', { nodes: ['127.0.0.1:7000'], bus: 'kafka' }, 'bus: '],
    ['an unknown readFrom', { nodes: ['127.0.0.1:7000'], readFrom: 'replica' }, 'readFrom: '],
    [
      'rootNodes in clusterOptions',
      { nodes: ['127.0.0.1:7000'], clusterOptions: { rootNodes: [] } },
      'clusterOptions.rootNodes: give the seed nodes as nodes',
    ],
    [
      'useReplicas in clusterOptions',
      { nodes: ['127.0.0.1:7000'], clusterOptions: { useReplicas: true } },
      'clusterOptions.useReplicas: set readFrom instead',
    ],
    ['an unknown field', { nodes: ['127.0.0.1:7000'], scaleReads: 'slave' }, 'scaleReads'],
    ['a standalone client', { client: createClient() }, 'client: expected a node-redis cluster client'],
    [
      'readFrom next to a client',
      { client: createCluster({ rootNodes: [] }), readFrom: 'replicas' },
      'readFrom: readFrom applies to clients the store creates',
    ],
  ])('rejects %s, naming the field', (_, options, expected) => {
    const error = tierCacheErrorOf('INVALID_CONFIG', () => nodeRedisClusterStore(options as never))
    expect(error.message).toContain('invalid nodeRedisClusterStore options')
    expect(error.message).toContain(expected)
  })
})

describe('nodeRedisStore options', () => {
  it.each([
    ['nothing to connect to', {}, 'url: give exactly one of url, host (with port) or sentinel'],
    ['a URL and a host', { url: 'redis://127.0.0.1:6379', host: '127.0.0.1' }, 'url: give exactly one of url'],
    ['a URL of another scheme', { url: 'http://127.0.0.1:6379' }, 'url: expected a redis:// or rediss:// URL'],
    ['a Sentinel without a name', { sentinel: { sentinels: ['127.0.0.1:26379'] } }, 'sentinel.name'],
    ['a Sentinel list that is empty', { sentinel: { name: 'mymaster', sentinels: [] } }, 'sentinel.sentinels: give at least one Sentinel'],
    ['readFrom without Sentinels', { host: '127.0.0.1', readFrom: 'replicas' }, 'readFrom: reading from replicas needs sentinel'],
    ['a negative database', { host: '127.0.0.1', database: -1 }, 'database: '],
    ['a cluster client', { client: createCluster({ rootNodes: [] }) }, 'client: expected a node-redis client'],
  ])('rejects %s, naming the field', (_, options, expected) => {
    const error = tierCacheErrorOf('INVALID_CONFIG', () => nodeRedisStore(options as never))
    expect(error.message).toContain('invalid nodeRedisStore options')
    expect(error.message).toContain(expected)
  })
})
