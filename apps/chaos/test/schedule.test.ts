import { describe, expect, it } from 'vitest'
import { buildSchedule, faultsOf } from '../src/schedule.js'

describe('the chaos schedule', () => {
  it('is the same for the same seed and differs for another', () => {
    expect(buildSchedule(42, 60_000)).toEqual(buildSchedule(42, 60_000))
    expect(buildSchedule(42, 60_000)).not.toEqual(buildSchedule(43, 60_000))
  })

  it('draws every kind of fault over a long run, and at least one fault over a short one', () => {
    const kinds = new Set(buildSchedule(7, 600_000).map((s) => s.fault.kind))
    expect([...kinds].sort()).toEqual(['kill-master', 'kill-pubsub', 'kill-replica', 'move-slots', 'pause-master', 'pause-replica'])
    expect(buildSchedule(7, 1).length).toBe(1)
  })

  it('is a prefix of the endless sequence a run takes faults from by the clock', () => {
    const schedule = buildSchedule(5, 60_000)
    const endless = faultsOf(5)
    expect(schedule.map(() => endless.next().value)).toEqual(schedule)
  })
})
