import { describe, expect, it } from 'vitest'
import { faultKindAt, summarizeSlowReads } from '../src/attribution.js'
import type { SlowReadDetail } from '../src/protocol.js'
import { LockLedger } from '../src/read-trace.js'

const slowRead = (start: number, end: number, fields: Partial<SlowReadDetail> = {}): SlowReadDetail => ({
  worker: 1,
  keys: [1],
  start,
  end,
  batch: false,
  tier: 'miss',
  loaderMs: 0,
  loopLagMaxMs: 0,
  loopLagCpuMs: 0,
  steps: [],
  ...fields,
})

describe('where slow reads went', () => {
  it('names the fault under way by its kind, and calm between faults', () => {
    const faults = [{ label: 'kill master 12345', start: 1_000, end: 4_000 }]
    expect(faultKindAt(faults, 2_000)).toBe('kill master')
    expect(faultKindAt([{ label: 'pause master 7000 for 844 ms', start: 0, end: 10 }], 5)).toBe('pause master')
    expect(faultKindAt(faults, 5_000)).toBe('calm')
  })

  it('counts only reads over the limit, by tier, fault and longest step, with the loaders share and loop stalls', () => {
    const faults = [{ label: 'kill master 1', start: 0, end: 10_000 }]
    const summary = summarizeSlowReads(
      [
        slowRead(100, 2_100, { steps: ['get@0+10 ok', 'acquireLock@10+1500 true', 'load@1510+500'], loaderMs: 500 }),
        slowRead(20_000, 21_500, { tier: 'l1', loopLagMaxMs: 1_200 }),
        slowRead(30_000, 30_400),
      ],
      faults,
      1_000,
    )
    expect(summary.count).toBe(2)
    expect(summary.byTier).toEqual({ miss: 1, l1: 1 })
    expect(summary.byFault).toEqual({ 'kill master': 1, calm: 1 })
    expect(summary.byLongestCall).toEqual({ 'acquireLock >=1s': 1, none: 1 })
    expect(summary.loaderShare).toBeCloseTo(500 / 3_500)
    expect(summary.loopStalled).toBe(1)
  })
})

describe('the lock ledger', () => {
  it('reports a lock held past the limit once its release is answered, and not one freed in time', () => {
    const long: { key: string; freed: boolean }[] = []
    const ledger = new LockLedger(1_000, (lock) => long.push({ key: lock.key, freed: lock.freed }))
    const now = Date.now()
    ledger.note('acquireLock', ['late', 't1', 10_000], now - 5_000, true)
    ledger.note('acquireLock', ['quick', 't2', 10_000], now, true)
    ledger.note('acquireLock', ['busy', 't3', 10_000], now, false)
    ledger.note('releaseLock', ['late', 't1'], now, 'ok')
    ledger.note('setIfLeaseHeld', ['v', 'quick', 't2', 'x', 1], now, true)
    expect(long).toEqual([{ key: 'late', freed: true }])
  })

  it('reports the locks never freed when flushed', () => {
    const long: { key: string; freed: boolean }[] = []
    const ledger = new LockLedger(1_000, (lock) => long.push({ key: lock.key, freed: lock.freed }))
    ledger.note('acquireLock', ['kept', 't1', 10_000], Date.now() - 2_000, true)
    // a release that failed does not free it
    ledger.note('releaseLock', ['kept', 't1'], Date.now(), 'rejected L2_TIMEOUT')
    ledger.flushHeld()
    expect(long).toEqual([{ key: 'kept', freed: false }])
  })
})
