import { EVENTUALLY, testCluster, testStandalone } from '@tiercache/testkit'
import { Cluster, Redis } from 'ioredis'
import { describe, expect, it, vi } from 'vitest'
import { redisClusterStore, redisStore } from '../src/index.js'
import { clusterAdmin, standaloneAdmin, storeConnections } from './admin.js'

describe('a store on a client the application passed in', () => {
  it.each([
    {
      kind: 'cluster',
      key: '{existing}:k',
      open: () => new Cluster(testCluster().seeds(), { redisOptions: { connectionName: 'app' } }),
      store: (client: Cluster | Redis) => redisClusterStore({ client: client as Cluster }),
      admin: clusterAdmin,
    },
    {
      kind: 'standalone',
      key: 'existing:k',
      open: () => new Redis({ host: testStandalone().host, port: testStandalone().port, connectionName: 'app' }),
      store: (client: Cluster | Redis) => redisStore({ client: client as Redis }),
      admin: standaloneAdmin,
    },
  ])('shares the $kind client and leaves it open after close, closing only its subscriber', async ({ key, open, store: make, admin }) => {
    const client = open()
    try {
      const store = make(client)
      await store.set(key, 'v', 60_000)
      expect(await client.get(key)).toBe('v')
      await store.subscribe('existing:bus', { onMessage: () => {} })
      await store.close()
      expect(client.status).toBe('ready')
      expect(await client.get(key)).toBe('v')
      await vi.waitFor(async () => expect(await storeConnections(admin())).toEqual([]), EVENTUALLY)
    } finally {
      await client.quit()
    }
  })
})
