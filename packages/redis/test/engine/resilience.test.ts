import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { type BreakerEvent, CHANNELS, KeyBuilder, type ReadMessage } from '@tiercache/core'
import { keySlot } from '@tiercache/testkit'
import { describe, expect, it } from 'vitest'
import { eventually, failureFleet, type LoadReport, steadyLoad } from './helpers.js'

describe('failures of Redis under load', () => {
  it('a killed master costs callers no errors and no wrong values; L2 hits resume after the failover', async () => {
    const { cluster, namespace, caches, close } = await failureFleet(3, {
      entities: { product: { ttl: '1m', l1: { ttl: 50 } } },
    })
    const loaderCalls = { n: 0 }
    const load = steadyLoad(caches, 300, loaderCalls)
    // The kill lands under load: every key read a few times over, whatever the machine's speed.
    await eventually(() => load.report.served >= 1_000)
    const callsBeforeKill = loaderCalls.n
    const keys = new KeyBuilder(namespace, 'product')
    const victim = await cluster.masterForKey(keys.valueKey('1'))
    const onVictim = (id: string) => {
      const slot = keySlot(keys.valueKey(id))
      return victim.slots.some(([first, last]) => slot >= first && slot <= last)
    }
    // L2 hits resume when a read of a key on the failed master's slots is answered by L2 again: the
    // read channel says so for that very key, where a count of all L2 hits would depend on how many
    // reads of the other slots a loaded machine fits into the wait.
    let promotedAt = Number.NaN
    let resumedAt = Number.NaN
    const onRead = (message: unknown) => {
      const read = message as ReadMessage
      if (read.namespace !== namespace || read.tier !== 'l2' || Number.isNaN(promotedAt) || !Number.isNaN(resumedAt)) return
      if (onVictim(read.id)) resumedAt = performance.now()
    }
    subscribe(CHANNELS.read, onRead)
    const killedAt = performance.now()
    let report: LoadReport
    try {
      await cluster.kill(victim.port)
      await cluster.waitForFailover(victim.port, { timeoutMs: 20_000 })
      promotedAt = performance.now()
      await eventually(() => !Number.isNaN(resumedAt), 20_000)
      // and the load keeps being served after it
      const servedAtResume = load.report.served
      await eventually(() => load.report.served >= servedAtResume + 300)
    } finally {
      unsubscribe(CHANNELS.read, onRead)
      report = await load.stop()
    }
    console.info(
      `[failover] served ${report.served}, errors ${report.errors}, wrong ${report.wrong}, failover took ${Math.round(promotedAt - killedAt)} ms, ` +
        `L2 hits resumed ${Math.round(resumedAt - promotedAt)} ms after promotion, extra loader calls ${loaderCalls.n - callsBeforeKill}, slowest read ${Math.round(report.maxMs)} ms`,
    )
    expect(report.errors).toBe(0)
    expect(report.wrong).toBe(0)
    // The documented bound (docs/failure-behaviour.md): L2 hits resume within 3 s of the promotion,
    // the breaker's cool-down (2 s) plus ioredis's slot map refresh. Asserted with 3 s more: both are
    // timers and round trips, which a shared 2-core CI machine under load runs late; a cache that
    // never found the promoted replica fails the wait above instead.
    expect(resumedAt - promotedAt).toBeLessThan(6_000)
    await close()
  }, 90_000)

  it('with every node killed callers get no errors (the loader serves), the breaker opens, and it closes after the restart', async () => {
    const { cluster, caches, close } = await failureFleet(2, {
      breaker: { failures: 5, coolDown: '500ms', probes: 2 },
      entities: { product: { ttl: '1m', l1: { ttl: 20 } } },
    })
    const states: string[] = []
    caches[0]!.on('breaker', (e: BreakerEvent) => states.push(e.state))
    const loaderCalls = { n: 0 }
    const load = steadyLoad(caches, 100, loaderCalls)
    await eventually(() => load.report.served >= 200)
    const ports = cluster.nodes.map((node) => node.port)
    await Promise.all(ports.map((port) => cluster.kill(port)))
    await eventually(() => states.includes('open'))
    expect(caches[0]!.breakerState()).not.toBe('closed')
    // callers keep being served (by the loader) while every node is down
    const servedWhileDown = load.report.served
    await eventually(() => load.report.served >= servedWhileDown + 200)
    await cluster.ensureHealthy({ timeoutMs: 60_000 })
    await eventually(() => caches[0]!.breakerState() === 'closed', 30_000)
    const report = await load.stop()
    console.info(`[all nodes down] served ${report.served}, errors ${report.errors}, breaker transitions ${states.join(' -> ')}`)
    expect(report.errors).toBe(0)
    expect(report.wrong).toBe(0)
    expect(caches[0]!.breakerState()).toBe('closed')
    await close()
  }, 120_000)

  it('a node that hangs (SIGSTOP) costs a read at most the L2 timeout, then the breaker skips it', async () => {
    const { cluster, namespace, caches, close } = await failureFleet(1, {
      breaker: { failures: 3, coolDown: '10s', probes: 1 },
      entities: { product: { ttl: '1m', l1: false, hot: false } },
    })
    const products = caches[0]!.entity<string>('product')
    const keys = new KeyBuilder(namespace, 'product')
    const victim = await cluster.masterForKey(keys.valueKey('x'))
    await products.get('x', async () => 'warm')
    await cluster.pause(victim.port)
    try {
      const timings: number[] = []
      let timeoutsBeforeLastReads = 0
      for (let i = 0; i < 10; i++) {
        if (i === 7) timeoutsBeforeLastReads = caches[0]!.stats().product?.l2Timeouts ?? 0
        const started = performance.now()
        expect(await products.get('x', async () => 'from the loader')).toBe('from the loader')
        timings.push(performance.now() - started)
      }
      console.info(`[SIGSTOP] read latencies ms: ${timings.map((t) => Math.round(t)).join(', ')}`)
      // The documented bound (docs/failure-behaviour.md): a read waits at most the 50 ms timeout per
      // L2 call, and a miss makes two (the GET and the lock attempt). The node hangs until the test
      // resumes it, so a read that waited for it would never come back; the assertion allows 10x the
      // 100 ms because a loaded CI machine runs the timeout's timer late, never early.
      expect(Math.max(...timings)).toBeLessThan(1_000)
      expect(caches[0]!.stats().product?.l2Timeouts).toBeGreaterThan(0)
      // Breakers are per shard: the hung master's is open. The cache as a whole counts as open only
      // when every shard it has used is, and it has used others (a lease's wake-up goes to the
      // bus channel's shard).
      expect(caches[0]!.breakerShards()[`${victim.host}:${victim.port}`]).toBe('open')
      // with the breaker open, reads do not touch L2 at all: the last reads waited for no L2 call
      expect(caches[0]!.stats().product?.l2Timeouts).toBe(timeoutsBeforeLastReads)
    } finally {
      await cluster.resume(victim.port)
    }
    await close()
  }, 60_000)
})
