import { createClient, createCluster, type RedisClientType, type RedisClusterType } from '@redis/client'
import type { RemoteStore } from '@tiercache/core'
import { testCluster, testStandalone } from '@tiercache/testkit'
import { describe, expect, it } from 'vitest'
import { nodeRedisClusterStore, nodeRedisStore } from '../src/index.js'

/** A client the application passed in, as the test looks at it. */
interface PassedClient {
  readonly isOpen: boolean
  get(key: string): Promise<string | null>
  close(): Promise<unknown>
}

/** The store writes through the client and subscribes; after `close()` the client is still open and holds the value. */
async function expectSharedAndLeftOpen(client: PassedClient, store: RemoteStore, key: string): Promise<void> {
  try {
    await store.set(key, 'v', 60_000)
    expect(await client.get(key)).toBe('v')
    await store.subscribe('existing-nr:bus', { onMessage: () => {} })
    await store.close()
    expect(client.isOpen).toBe(true)
    expect(await client.get(key)).toBe('v')
  } finally {
    await client.close()
  }
}

describe('a node-redis store on a client the application passed in', () => {
  it('shares the cluster client and leaves it open after close', async () => {
    const client = createCluster({
      rootNodes: testCluster()
        .seeds()
        .map((node) => ({ socket: node })),
    }) as RedisClusterType
    await client.connect()
    await expectSharedAndLeftOpen(client, nodeRedisClusterStore({ client }), '{existing-nr}:k')
  })

  it('connects a standalone client that is not open yet, and leaves it open after close', async () => {
    const client = createClient({ socket: { host: testStandalone().host, port: testStandalone().port } }) as RedisClientType
    await expectSharedAndLeftOpen(client, nodeRedisStore({ client }), 'existing-nr:k')
  })
})
