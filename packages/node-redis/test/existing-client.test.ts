import { createClient, createCluster, type RedisClientType, type RedisClusterType } from '@redis/client'
import { testCluster, testStandalone } from '@tiercache/testkit'
import { describe, expect, it } from 'vitest'
import { nodeRedisClusterStore, nodeRedisStore } from '../src/index.js'

describe('a node-redis store on a client the application passed in', () => {
  it('shares the cluster client and leaves it open after close', async () => {
    const client = createCluster({
      rootNodes: testCluster()
        .seeds()
        .map((node) => ({ socket: node })),
    }) as RedisClusterType
    await client.connect()
    try {
      const store = nodeRedisClusterStore({ client })
      await store.set('{existing-nr}:k', 'v', 60_000)
      expect(await client.get('{existing-nr}:k')).toBe('v')
      await store.subscribe('existing-nr:bus', { onMessage: () => {} })
      await store.close()
      expect(client.isOpen).toBe(true)
      expect(await client.get('{existing-nr}:k')).toBe('v')
    } finally {
      await client.close()
    }
  })

  it('connects a standalone client that is not open yet, and leaves it open after close', async () => {
    const client = createClient({ socket: { host: testStandalone().host, port: testStandalone().port } }) as RedisClientType
    try {
      const store = nodeRedisStore({ client })
      await store.set('existing-nr:k', 'v', 60_000)
      await store.subscribe('existing-nr:bus', { onMessage: () => {} })
      await store.close()
      expect(client.isOpen).toBe(true)
      expect(await client.get('existing-nr:k')).toBe('v')
    } finally {
      await client.close()
    }
  })
})
