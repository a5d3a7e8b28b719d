/** What the readers of {@link readersAcrossShards} counted once counting started. */
export interface ShardKillCounts {
  /** Reads of ids on the healthy shards, and the loads they cost. */
  healthyReads: number
  healthyLoads: number
  /** Reads of ids on the victim shard, and the loads they cost. */
  victimReads: number
  victimLoads: number
  /** Reads that threw or answered a wrong value. */
  errors: number
  /** `performance.now()` of the last load of a victim-shard id (ms). */
  lastVictimLoad: number
}

/** Readers running over every id until {@link stop}. */
export interface ShardReaders {
  readonly counts: ShardKillCounts
  /** Counts reads and loads from now on (the values are in L2 by then). */
  startCounting(): void
  /** Stops the readers; resolves once every one has returned. */
  stop(): Promise<void>
}

/** The one method of an entity handle the readers call. */
interface Reads {
  get(id: string, loader: (id: string) => Promise<string>): Promise<string>
}

/**
 * The workload of the "one shard down is one shard down" tests: loads every id once (value
 * `v<id>`, so each is in L2), then `readers` callers read the ids round-robin without pause until
 * stopped. Once counting starts, each read and each load is counted against the victim shard when
 * its id is in `onVictim`, else against the healthy shards. The loader yields once, like a
 * database query. Errors are counted, never thrown: the test decides how many it allows.
 */
export async function readersAcrossShards(
  entity: Reads,
  ids: readonly string[],
  onVictim: ReadonlySet<string>,
  readers: number,
): Promise<ShardReaders> {
  const counts: ShardKillCounts = { healthyReads: 0, healthyLoads: 0, victimLoads: 0, victimReads: 0, errors: 0, lastVictimLoad: 0 }
  let counting = false
  const loader = async (id: string) => {
    await new Promise((resolve) => setImmediate(resolve))
    if (!counting) return `v${id}`
    if (onVictim.has(id)) {
      counts.victimLoads++
      counts.lastVictimLoad = performance.now()
    } else counts.healthyLoads++
    return `v${id}`
  }
  for (const id of ids) await entity.get(id, loader)
  let stopped = false
  const running = Array.from({ length: readers }, async (_, r) => {
    for (let i = r; !stopped; i += readers) {
      const id = ids[i % ids.length] as string
      try {
        if ((await entity.get(id, loader)) !== `v${id}`) counts.errors++
      } catch {
        counts.errors++
      }
      if (!counting) continue
      if (onVictim.has(id)) counts.victimReads++
      else counts.healthyReads++
    }
  })
  return {
    counts,
    startCounting: () => {
      counting = true
    },
    stop: async () => {
      stopped = true
      await Promise.all(running)
    },
  }
}
