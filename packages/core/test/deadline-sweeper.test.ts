import { describe, expect, it } from 'vitest'
import { DeadlineSweeper } from '../src/l2/deadline-sweeper.js'

function busyWait(ms: number): void {
  const until = performance.now() + ms
  while (performance.now() < until) {
    // a synchronous stall of the event loop, as a long GC or a CPU burst would cause
  }
}

describe('DeadlineSweeper', () => {
  it('expires a call past its deadline and reports the sweep once', async () => {
    const sweeps: number[] = []
    // Waits for the sweep's report, not for a time: on a stalled loop a 40 ms timer can run in the
    // same turn as the sweep, before the expiries it defers to setImmediate.
    let swept!: () => void
    const reported = new Promise<void>((resolve) => {
      swept = resolve
    })
    const sweeper = new DeadlineSweeper((n) => {
      sweeps.push(n)
      swept()
    })
    const expired: string[] = []
    sweeper.register(10, () => expired.push('a'))
    sweeper.register(10, () => expired.push('b'))
    // 'b' registered a little after 'a', so its deadline is a little later: a sweep could fall
    // between the two. Holding the loop past both deadlines (as a stall would) makes the first
    // sweep find both late, which is the case this test is about.
    const held = performance.now() + 15
    while (performance.now() < held) {
      // busy: no timer can run
    }
    await reported
    expect(expired.sort()).toEqual(['a', 'b'])
    expect(sweeps).toEqual([2])
    sweeper.stop()
  })

  it('does not expire a call that settled in time', async () => {
    const sweeper = new DeadlineSweeper()
    const expired: string[] = []
    const entry = sweeper.register(20, () => expired.push('a'))
    sweeper.settle(entry)
    // A witness registered after it, with the same timeout, is due no earlier: once it expired, a
    // sweep past the settled call's deadline has run (a fixed wait could end before that sweep).
    const witnessExpired = new Promise<void>((resolve) => {
      sweeper.register(20, () => {
        expired.push('witness')
        resolve()
      })
    })
    await witnessExpired
    expect(expired).toEqual(['witness'])
    sweeper.stop()
  })

  it('does not expire a call whose reply was already waiting when a stalled event loop swept', async () => {
    const sweeps: number[] = []
    const sweeper = new DeadlineSweeper((n) => sweeps.push(n))
    const expired: string[] = []
    const entry = sweeper.register(8, () => expired.push('late'))
    // The reply arrives at 5 ms, but the loop is stalled for 30 ms: when it runs again, the
    // sweep and the reply are both due; the reply must win.
    setTimeout(() => sweeper.settle(entry), 5)
    busyWait(30)
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(expired).toEqual([])
    expect(sweeps).toEqual([])
    sweeper.stop()
  })

  it('needs no timer for an infinite timeout', () => {
    const sweeper = new DeadlineSweeper()
    expect(sweeper.register(Number.POSITIVE_INFINITY, () => {})).toBeNull()
  })
})
