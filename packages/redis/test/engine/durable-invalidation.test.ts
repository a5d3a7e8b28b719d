import { KeyBuilder } from '@tiercache/core'
import { testCluster } from '@tiercache/testkit'
import { describe, expect, it } from 'vitest'
import { fleet, uniqueNamespace } from './helpers.js'

describe('durable invalidation', () => {
  it('an invalidation no replica confirmed is applied again after the failover: no instance reads the old value later than 1 s after the cluster is whole', async () => {
    const cluster = testCluster()
    const namespace = uniqueNamespace()
    const { caches, close } = await fleet(2, { namespace, entities: { product: { ttl: '5m', l1: false, hot: false } } })
    const writer = caches[0]!.entity<string>('product')
    const reader = caches[1]!.entity<string>('product')
    let database = 'old'
    const load = async () => database
    const key = new KeyBuilder(namespace, 'product').valueKey('k')
    expect(await writer.get('k', load)).toBe('old')
    const master = await cluster.masterForKey(key)
    const replica = (await cluster.replicas()).find((r) => r.masterId === master.id)
    if (replica === undefined) throw new Error('the master has no replica')
    try {
      // The replica holds the old value for good: it has it, it is frozen, and the master's link
      // to it is cut, so the delete cannot sit in a socket buffer it reads on SIGCONT.
      expect(await cluster.command(master.port, ['WAIT', 1, 5_000])).toBe(1)
      await cluster.pause(replica.port)
      expect(await cluster.command(master.port, ['CLIENT', 'KILL', 'TYPE', 'replica'])).toBe(1)
      database = 'new'
      await writer.invalidate('k')
      await cluster.kill(master.port)
      await cluster.resume(replica.port)
      await cluster.waitForFailover(master.port, { timeoutMs: 30_000 })
      await cluster.restart(master.port)
      await cluster.ensureHealthy({ timeoutMs: 60_000 })
      const wholeAt = performance.now()
      const late: string[] = []
      while (performance.now() - wholeAt < 2_000) {
        const startedAt = performance.now()
        const value = await reader.get('k', load)
        if (value === 'old' && startedAt - wholeAt > 1_000) late.push(`${Math.round(startedAt - wholeAt)} ms`)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      expect(late).toEqual([])
      expect(await reader.get('k', load)).toBe('new')
    } finally {
      await cluster.resume(replica.port).catch(() => undefined)
      await close()
      await cluster.ensureHealthy({ timeoutMs: 60_000 })
    }
  }, 180_000)
})
