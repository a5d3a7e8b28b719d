import { EMPTY_SLOT_MAP, type SlotMap, sameSlotOwners, slotMapChange, slotMapOf, TopologyPace } from '@tiercache/redis-common'
import { describe, expect, it } from 'vitest'

/** A 12-slot map from `owner` ranges: `[[0, 5, 'a'], [6, 11, 'b']]`. */
function map(ranges: readonly (readonly [number, number, string])[]): SlotMap {
  return slotMapOf(12, (slot) => ranges.find(([from, to]) => slot >= from && slot <= to)?.[2])
}

describe('slot map comparison (shared by the ioredis and node-redis cluster stores)', () => {
  const ab = map([
    [0, 5, 'a:1'],
    [6, 11, 'b:2'],
  ])

  it('finds no change in the same map, and none from or to an empty one', () => {
    expect(
      slotMapChange(
        ab,
        map([
          [0, 5, 'a:1'],
          [6, 11, 'b:2'],
        ]),
      ),
    ).toBeUndefined()
    expect(slotMapChange(EMPTY_SLOT_MAP, ab)).toBeUndefined()
    expect(slotMapChange(ab, map([]))).toBeUndefined()
  })

  it('names the source and the target of moved slots', () => {
    const moved = map([
      [0, 4, 'a:1'],
      [5, 11, 'b:2'],
    ])
    expect(slotMapChange(ab, moved)).toEqual({ shards: ['a:1', 'b:2'], reason: 'slots', current: ['a:1', 'b:2'] })
    expect(sameSlotOwners(ab, moved)).toBe(false)
  })

  it('reports a promoted replica in a dead master place as a failover naming both', () => {
    const promoted = map([
      [0, 5, 'c:3'],
      [6, 11, 'b:2'],
    ])
    expect(slotMapChange(ab, promoted)).toEqual({ shards: ['a:1', 'c:3'], reason: 'failover', current: ['b:2', 'c:3'] })
  })

  it('reports a master that joined or left as nodes', () => {
    const joined = map([
      [0, 5, 'a:1'],
      [6, 9, 'b:2'],
      [10, 11, 'd:4'],
    ])
    expect(slotMapChange(ab, joined)).toEqual({ shards: ['b:2', 'd:4'], reason: 'nodes', current: ['a:1', 'b:2', 'd:4'] })
    expect(slotMapChange(joined, ab)).toEqual({ shards: ['b:2', 'd:4'], reason: 'nodes', current: ['a:1', 'b:2'] })
  })

  it('names the master of a slot that became uncovered', () => {
    const uncovered = map([
      [0, 5, 'a:1'],
      [6, 10, 'b:2'],
    ])
    expect(slotMapChange(ab, uncovered)).toEqual({ shards: ['b:2'], reason: 'slots', current: ['a:1', 'b:2'] })
  })
})

describe('topology read pace (shared by the ioredis and node-redis cluster stores)', () => {
  it('reads every second, every 200 ms for 30 s after a node fails, and reschedules only on entering the fast pace', () => {
    let now = 1_000
    const pace = new TopologyPace(() => now)
    expect(pace.delay()).toBe(1_000)
    expect(pace.nodeFailing()).toBe(true)
    expect(pace.delay()).toBe(200)
    now += 10_000
    // Already fast: the window restarts from now, no new schedule is needed.
    expect(pace.nodeFailing()).toBe(false)
    now += 30_000 - 1
    expect(pace.delay()).toBe(200)
    now += 1
    expect(pace.delay()).toBe(1_000)
    expect(pace.nodeFailing()).toBe(true)
  })
})
