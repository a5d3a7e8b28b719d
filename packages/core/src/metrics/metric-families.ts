import type { BreakerState } from '../l2/circuit-breaker.js'
import type { ReadTier } from './channels.js'
import type { EntityLatencies } from './entity-metrics.js'
import type { EntityStats } from './entity-stats.js'
import type { HistogramSnapshot } from './latency-histogram.js'

/** What one cache exposes to exporters: plain readings, taken at scrape time (`cache.metricsReading()`). */
export interface MetricsReading {
  namespace: string
  stats: Record<string, Readonly<EntityStats>>
  latencies: Record<string, EntityLatencies>
  /** Number of hot keys per entity, now. */
  hotKeys: Record<string, number>
  breaker: BreakerState
  /** Times the breaker opened since the cache was created. */
  breakerOpens: number
}

/** One series of a {@link MetricFamily}: its labels (`namespace` always) and a value or a histogram. */
export interface MetricSeries {
  labels: Readonly<Record<string, string>>
  /** The value of a counter or gauge series. */
  value?: number
  /** The state of a histogram series (milliseconds; exporters convert to seconds). */
  histogram?: HistogramSnapshot
}

/**
 * A metric with every series of one reading, in the shape both exporters use: the built-in text
 * exporter (`cache.metrics()`) and prom-client collectors (`@tiercache/prom-client`). Names follow
 * Prometheus conventions (`_total` counters, `_seconds` histograms).
 */
export interface MetricFamily {
  name: string
  type: 'counter' | 'gauge' | 'histogram'
  help: string
  /** Label names of every series, `namespace` first. */
  labelNames: readonly string[]
  series: MetricSeries[]
}

type CounterField = Exclude<keyof EntityStats, 'l1Hits' | 'l2Hits' | 'invalidations' | 'invalidationsReceived'>

/** Per-entity counters exported one-to-one: field of `EntityStats` → metric name and help. */
const SIMPLE_COUNTERS: readonly [CounterField, string, string][] = [
  ['staleServed', 'tiercache_stale_served_total', 'Reads answered by a stale value within grace.'],
  ['misses', 'tiercache_misses_total', 'Reads that found nothing fresh or servable in any tier and loaded or waited for a load.'],
  ['loads', 'tiercache_loads_total', 'Loader calls (a batch loader call counts once).'],
  ['loadErrors', 'tiercache_load_errors_total', 'Loader calls that threw.'],
  ['loadTimeouts', 'tiercache_load_timeouts_total', 'Loader calls that passed the hard timeout.'],
  ['lockWaits', 'tiercache_lock_waits_total', "Reads that waited for another instance's load (fleet-wide single-flight)."],
  ['earlyRefreshes', 'tiercache_early_refreshes_total', 'Background refreshes started before expiry (XFetch).'],
  ['l2Errors', 'tiercache_l2_errors_total', 'L2 calls that failed, timeouts and calls skipped by the open breaker included.'],
  ['l2Timeouts', 'tiercache_l2_timeouts_total', 'L2 calls that passed the L2 timeout (also counted in tiercache_l2_errors_total).'],
  ['corruptEntries', 'tiercache_corrupt_entries_total', 'Corrupt or foreign entries found in L2 and removed.'],
  ['schemaMismatches', 'tiercache_schema_mismatches_total', "Entries in L2 that failed the entity's schema, removed and reloaded."],
  ['uncacheableValues', 'tiercache_uncacheable_values_total', 'Loaded values not cached (not serializable, too large, bad tags).'],
]

const TIERS: readonly ReadTier[] = ['l1', 'l2', 'stale', 'miss']
const BREAKER_STATES: readonly BreakerState[] = ['closed', 'open', 'half-open']

/**
 * Every metric of a cache from one reading, in a fixed order: hits, the per-entity counters,
 * invalidations, hot keys, breaker state and opens, read and load latency histograms. The set of
 * names does not depend on the reading (an exporter may register them before the first scrape).
 */
export function metricFamilies(reading: MetricsReading): MetricFamily[] {
  const namespace = reading.namespace
  const entities = Object.keys(reading.stats)
  const stats = (entity: string) => reading.stats[entity] as EntityStats
  // A per-entity counter; `labels` are its label names beyond namespace and entity, `series` gives one entity's series.
  const perEntity = (name: string, help: string, labels: string[], series: (entity: string) => MetricSeries[]): MetricFamily => ({
    name,
    type: 'counter',
    help,
    labelNames: ['namespace', 'entity', ...labels],
    series: entities.flatMap(series),
  })
  const single = (entity: string, value: number): MetricSeries[] => [{ labels: { namespace, entity }, value }]
  // One series per value of `label`, each read from its own field of the entity's stats.
  const split =
    (label: string, fields: Record<string, keyof EntityStats>) =>
    (entity: string): MetricSeries[] =>
      Object.entries(fields).map(([value, field]) => ({ labels: { namespace, entity, [label]: value }, value: stats(entity)[field] }))
  return [
    perEntity(
      'tiercache_hits_total',
      'Reads answered by a fresh entry, by tier (l1, l2).',
      ['tier'],
      split('tier', { l1: 'l1Hits', l2: 'l2Hits' }),
    ),
    ...SIMPLE_COUNTERS.map(([field, name, help]) => perEntity(name, help, [], (entity) => single(entity, stats(entity)[field] ?? 0))),
    perEntity(
      'tiercache_invalidations_total',
      'Ids invalidated: sent by this instance, or received from others on the bus.',
      ['direction'],
      split('direction', { sent: 'invalidations', received: 'invalidationsReceived' }),
    ),
    {
      ...perEntity('tiercache_hot_keys', 'Keys detected or declared hot in this instance, now.', [], (entity) =>
        single(entity, reading.hotKeys[entity] ?? 0),
      ),
      type: 'gauge',
    },
    {
      name: 'tiercache_breaker_state',
      type: 'gauge',
      help: 'State of the L2 circuit breaker: 1 for the current state, 0 for the others.',
      labelNames: ['namespace', 'state'],
      series: BREAKER_STATES.map((state) => ({ labels: { namespace, state }, value: state === reading.breaker ? 1 : 0 })),
    },
    {
      name: 'tiercache_breaker_opens_total',
      type: 'counter',
      help: 'Times the L2 circuit breaker opened.',
      labelNames: ['namespace'],
      series: [{ labels: { namespace }, value: reading.breakerOpens }],
    },
    {
      name: 'tiercache_read_duration_seconds',
      type: 'histogram',
      help: 'Read latency by the tier that answered (l1 sampled one hit in 64; one observation per single-flight).',
      labelNames: ['namespace', 'entity', 'tier'],
      series: entities.flatMap((entity) => {
        const latencies = reading.latencies[entity]
        return latencies === undefined
          ? []
          : TIERS.map((tier) => ({ labels: { namespace, entity, tier }, histogram: latencies.reads[tier] }))
      }),
    },
    {
      name: 'tiercache_load_duration_seconds',
      type: 'histogram',
      help: 'Loader call latency, failures and timeouts included.',
      labelNames: ['namespace', 'entity'],
      series: entities.flatMap((entity) => {
        const latencies = reading.latencies[entity]
        return latencies === undefined ? [] : [{ labels: { namespace, entity }, histogram: latencies.loads }]
      }),
    },
  ]
}
