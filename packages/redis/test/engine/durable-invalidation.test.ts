import { expectDurableHotKeyInvalidationWithinOneSecond, expectDurableInvalidationWithinOneSecond, testCluster } from '@tiercache/testkit'
import { describe, it } from 'vitest'
import { redisClusterStore } from '../../src/index.js'

describe('durable invalidation', () => {
  it('an invalidation no replica confirmed is applied again after the failover: no instance reads the old value later than 1 s after the cluster is whole', async () => {
    await expectDurableInvalidationWithinOneSecond(testCluster(), () => redisClusterStore({ nodes: testCluster().seeds() }))
  }, 180_000)

  it("a hot key's copy whose tombstone no replica confirmed is tombstoned again after the failover: no instance reads the old value later than 1 s after the failover", async () => {
    await expectDurableHotKeyInvalidationWithinOneSecond(testCluster(), () => redisClusterStore({ nodes: testCluster().seeds() }))
  }, 180_000)
})
