import type { EntityStats, TierCache } from '@tiercache/core'
import type { MasterAddress } from './l2.js'
import type { TrafficGenerator } from './traffic.js'

/** One second of the whole demo (both instances), as the dashboard draws it. */
export interface DashboardPoint {
  /** Seconds since the traffic started. */
  t: number
  phase: string
  /** Requests answered per second (traffic generator's view). */
  requests: number
  errors: number
  /** Database queries per second. */
  dbQueries: number
  /** Reads per second by the tier that answered them, every entity of both instances. */
  tiers: { l1: number; l2: number; stale: number; miss: number }
  /** Request latency this second (ms), `null` without requests. */
  p50: number | null
  p99: number | null
  /** Commands per second on each L2 master. */
  masters: Record<MasterAddress, number>
}

/** A service instance the monitor watches. */
export interface WatchedInstance {
  name: string
  url: string
  cache: TierCache
}

/** What the monitor reads every second. */
export interface MonitorSources {
  instances: readonly WatchedInstance[]
  traffic: TrafficGenerator
  dbQueries: () => number
  masterCommands: () => Promise<Map<MasterAddress, number>>
  refreshSlots: () => Promise<void>
  /** Static facts for the dashboard's header (mode, database, L2, duration). */
  facts: Record<string, unknown>
  /** Extra live figures for the dashboard (stampede, flash sale, consistency). */
  live: () => Record<string, unknown>
}

/** The most points kept (10 minutes at one a second). */
const MAX_POINTS = 600

/**
 * Samples the demo once a second: cache counters of both instances, database queries, request
 * latencies, commands per L2 master, hot keys and breaker states. Its `data()` is the dashboard's
 * JSON; the summary reads its totals.
 */
export class Monitor {
  readonly points: DashboardPoint[] = []
  private timer: NodeJS.Timeout | undefined
  private lastTiers = { l1: 0, l2: 0, stale: 0, miss: 0 }
  private lastDb = 0
  private lastMasters = new Map<MasterAddress, number>()
  private sampling: Promise<void> = Promise.resolve()

  constructor(private readonly sources: MonitorSources) {}

  async start(): Promise<void> {
    await this.sources.refreshSlots()
    this.lastMasters = await this.sources.masterCommands()
    this.lastDb = this.sources.dbQueries()
    this.lastTiers = this.tiers()
    this.timer = setInterval(() => {
      this.sampling = this.sample()
    }, 1_000)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
    await this.sampling
  }

  /** Reads per tier so far, summed over every entity of every instance. */
  tiers(): { l1: number; l2: number; stale: number; miss: number } {
    const sum = { l1: 0, l2: 0, stale: 0, miss: 0 }
    for (const instance of this.sources.instances) {
      for (const stats of Object.values(instance.cache.stats()) as EntityStats[]) {
        sum.l1 += stats.l1Hits
        sum.l2 += stats.l2Hits
        sum.stale += stats.staleServed
        sum.miss += stats.misses
      }
    }
    return sum
  }

  /** The dashboard's JSON. */
  data(): Record<string, unknown> {
    const traffic = this.sources.traffic
    return {
      ...this.sources.facts,
      elapsedS: Math.round(traffic.elapsedMs() / 100) / 10,
      phase: traffic.phase,
      instances: this.sources.instances.map((instance) => ({
        name: instance.name,
        url: instance.url,
        breaker: instance.cache.breakerState(),
      })),
      hotKeys: this.sources.instances.flatMap((instance) =>
        instance.cache.hotKeys().map((hot) => ({ instance: instance.name, entity: hot.entity, id: hot.id, rate: Math.round(hot.rate) })),
      ),
      totals: { requests: traffic.requests, errors: traffic.errors, dbQueries: this.sources.dbQueries(), tiers: this.tiers() },
      ...this.sources.live(),
      points: this.points,
    }
  }

  private async sample(): Promise<void> {
    const traffic = this.sources.traffic
    const window = traffic.takeWindow()
    const tiers = this.tiers()
    const db = this.sources.dbQueries()
    await this.sources.refreshSlots()
    const masters = await this.sources.masterCommands()
    const perMaster: Record<MasterAddress, number> = {}
    for (const [address, count] of masters) perMaster[address] = Math.max(0, count - (this.lastMasters.get(address) ?? count))
    const sorted = window.latenciesMs.sort((a, b) => a - b)
    this.points.push({
      t: Math.round(traffic.elapsedMs() / 100) / 10,
      phase: traffic.phase,
      requests: window.requests,
      errors: window.errors,
      dbQueries: db - this.lastDb,
      tiers: {
        l1: tiers.l1 - this.lastTiers.l1,
        l2: tiers.l2 - this.lastTiers.l2,
        stale: tiers.stale - this.lastTiers.stale,
        miss: tiers.miss - this.lastTiers.miss,
      },
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      masters: perMaster,
    })
    if (this.points.length > MAX_POINTS) this.points.shift()
    this.lastTiers = tiers
    this.lastDb = db
    this.lastMasters = masters
  }
}

/** The `q` quantile of sorted values (nearest rank), `null` for none. */
export function percentile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return Math.round((sorted[index] as number) * 100) / 100
}
