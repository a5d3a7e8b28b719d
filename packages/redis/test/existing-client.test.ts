import { EVENTUALLY, testCluster, testStandalone } from '@tiercache/testkit'
import { Cluster, Redis } from 'ioredis'
import { describe, expect, it, vi } from 'vitest'
import { redisClusterStore, redisStore } from '../src/index.js'
import { clusterAdmin, standaloneAdmin, storeConnections } from './admin.js'

describe('a store on a client the application passed in', () => {
  it('shares the cluster client and leaves it open after close, closing only its subscriber', async () => {
    const client = new Cluster(testCluster().seeds(), { redisOptions: { connectionName: 'app' } })
    try {
      const store = redisClusterStore({ client })
      await store.set('{existing}:k', 'v', 60_000)
      expect(await client.get('{existing}:k')).toBe('v')
      await store.subscribe('existing:bus', { onMessage: () => {} })
      await store.close()
      expect(client.status).toBe('ready')
      expect(await client.get('{existing}:k')).toBe('v')
      await vi.waitFor(async () => expect(await storeConnections(clusterAdmin())).toEqual([]), EVENTUALLY)
    } finally {
      await client.quit()
    }
  })

  it('shares the standalone client and leaves it open after close, closing only its subscriber', async () => {
    const client = new Redis({ host: testStandalone().host, port: testStandalone().port, connectionName: 'app' })
    try {
      const store = redisStore({ client })
      await store.set('existing:k', 'v', 60_000)
      await store.subscribe('existing:bus', { onMessage: () => {} })
      await store.close()
      expect(client.status).toBe('ready')
      expect(await client.get('existing:k')).toBe('v')
      await vi.waitFor(async () => expect(await storeConnections(standaloneAdmin())).toEqual([]), EVENTUALLY)
    } finally {
      await client.quit()
    }
  })
})
