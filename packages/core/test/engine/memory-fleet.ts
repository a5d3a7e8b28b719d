import { recordingLogger } from '@tiercache/testkit/helpers'
import { type FaultyStore, faultyStore, MemoryServer, memoryStore } from '@tiercache/testkit/memory'
import { type CacheOptions, createCache, type EntityHandle, KeyBuilder, ManualClock, type TierCache } from '../../src/index.js'

/** One instance of a {@link memoryFleet}. */
export interface FleetMember {
  readonly cache: TierCache
  /** Its L2, behind fault switches the test flips; `store.inner` reaches the keys without faults. */
  readonly store: FaultyStore
  readonly logger: ReturnType<typeof recordingLogger>
  entity<T>(name: string): EntityHandle<T>
}

/** What {@link memoryFleet} made. */
export interface MemoryFleet {
  /** The clock every instance and the server run on: moving it ages L1, L2, locks and stamps alike. */
  readonly clock: ManualClock
  readonly server: MemoryServer
  /** Instance `index` (0-based). */
  at(index: number): FleetMember
  /** The L2 keys of an entity's ids (`valueKey`, `lockKey`). */
  keys(entity: string): KeyBuilder
}

const opened: TierCache[] = []

/**
 * `count` cache instances in one process, each with its own in-memory store on one shared
 * server (the fleet's "Redis": shared keys and one bus), all on one manual clock. Namespace
 * `test`. The test file closes them with `afterEach(closeAll)`.
 */
export function memoryFleet(count: number, entities: CacheOptions['entities'], extra: Partial<CacheOptions> = {}): MemoryFleet {
  const clock = new ManualClock()
  const server = new MemoryServer({ clock })
  const members: FleetMember[] = Array.from({ length: count }, () => {
    const store = faultyStore(memoryStore({ server }))
    const logger = recordingLogger()
    const cache = createCache({ namespace: 'test', entities, clock, l2: store, logger, ...extra })
    opened.push(cache)
    return { cache, store, logger, entity: <T>(name: string) => cache.entity<T>(name) }
  })
  return {
    clock,
    server,
    at(index) {
      const member = members[index]
      if (member === undefined) throw new Error(`the fleet has ${count} instances, not ${index + 1}`)
      return member
    },
    keys: (entity) => new KeyBuilder('test', entity),
  }
}

/** Closes every cache {@link memoryFleet} made since the last call. */
export async function closeAll(): Promise<void> {
  await Promise.all(opened.splice(0).map((cache) => cache.close()))
}
