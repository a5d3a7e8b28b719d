import type { BreakerState } from '../l2/circuit-breaker.js'
import type { ReadTier } from './channels.js'
import type { EntityLatencies } from './entity-metrics.js'
import type { EntityStats } from './entity-stats.js'
import type { HistogramSnapshot } from './latency-histogram.js'

/** What one cache exposes to the exporter: plain readings, taken at scrape time. */
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

/** Options of `cache.metrics()`. */
export interface PrometheusOptions {
  /**
   * Labels added to every series, e.g. `{ instance: 'api-1' }` when one process exports several
   * caches of the same namespace. Names must match `[a-zA-Z_][a-zA-Z0-9_]*` and not be one of
   * tiercache's (`namespace`, `entity`, `tier`, `le`, `state`, `direction`). Default none.
   */
  labels?: Readonly<Record<string, string>>
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
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/
// Labels tiercache's own series use: a constant label of the same name would collide with them.
const RESERVED_LABELS = new Set(['namespace', 'entity', 'tier', 'le', 'state', 'direction'])

/**
 * Renders a cache's readings in the Prometheus text exposition format (version 0.0.4): counters
 * and gauges per entity, latency histograms per entity and tier (`_bucket` with `le` in seconds,
 * `_sum`, `_count`). Every series carries `namespace` and `entity` (entity-level) labels.
 */
export function renderPrometheus(reading: MetricsReading, options: PrometheusOptions = {}): string {
  const constant: [string, string][] = [['namespace', reading.namespace]]
  for (const [name, value] of Object.entries(options.labels ?? {})) {
    if (!LABEL_NAME.test(name) || RESERVED_LABELS.has(name)) {
      throw new TypeError(`metrics: label name ${JSON.stringify(name)} is not a valid, free Prometheus label name`)
    }
    constant.push([name, String(value)])
  }
  const out: string[] = []
  const entities = Object.keys(reading.stats)
  const head = (name: string, type: string, help: string): void => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
  }
  const line = (name: string, labels: [string, string][], value: number): void => {
    out.push(`${name}${formatLabels([...constant, ...labels])} ${formatValue(value)}`)
  }

  head('tiercache_hits_total', 'counter', 'Reads answered by a fresh entry, by tier (l1, l2).')
  for (const entity of entities) {
    const stats = reading.stats[entity] as EntityStats
    line(
      'tiercache_hits_total',
      [
        ['entity', entity],
        ['tier', 'l1'],
      ],
      stats.l1Hits,
    )
    line(
      'tiercache_hits_total',
      [
        ['entity', entity],
        ['tier', 'l2'],
      ],
      stats.l2Hits,
    )
  }
  for (const [field, name, help] of SIMPLE_COUNTERS) {
    head(name, 'counter', help)
    for (const entity of entities) line(name, [['entity', entity]], (reading.stats[entity] as EntityStats)[field] ?? 0)
  }
  head('tiercache_invalidations_total', 'counter', 'Ids invalidated: sent by this instance, or received from others on the bus.')
  for (const entity of entities) {
    const stats = reading.stats[entity] as EntityStats
    line(
      'tiercache_invalidations_total',
      [
        ['entity', entity],
        ['direction', 'sent'],
      ],
      stats.invalidations,
    )
    line(
      'tiercache_invalidations_total',
      [
        ['entity', entity],
        ['direction', 'received'],
      ],
      stats.invalidationsReceived,
    )
  }
  head('tiercache_hot_keys', 'gauge', 'Keys detected or declared hot in this instance, now.')
  for (const entity of entities) line('tiercache_hot_keys', [['entity', entity]], reading.hotKeys[entity] ?? 0)
  head('tiercache_breaker_state', 'gauge', 'State of the L2 circuit breaker: 1 for the current state, 0 for the others.')
  for (const state of BREAKER_STATES) line('tiercache_breaker_state', [['state', state]], state === reading.breaker ? 1 : 0)
  head('tiercache_breaker_opens_total', 'counter', 'Times the L2 circuit breaker opened.')
  line('tiercache_breaker_opens_total', [], reading.breakerOpens)

  head(
    'tiercache_read_duration_seconds',
    'histogram',
    'Read latency by the tier that answered (l1 sampled one hit in 64; one observation per single-flight).',
  )
  for (const entity of entities) {
    const latencies = reading.latencies[entity]
    if (latencies === undefined) continue
    for (const tier of TIERS)
      histogram(out, 'tiercache_read_duration_seconds', [...constant, ['entity', entity], ['tier', tier]], latencies.reads[tier])
  }
  head('tiercache_load_duration_seconds', 'histogram', 'Loader call latency, failures and timeouts included.')
  for (const entity of entities) {
    const latencies = reading.latencies[entity]
    if (latencies !== undefined) histogram(out, 'tiercache_load_duration_seconds', [...constant, ['entity', entity]], latencies.loads)
  }
  return `${out.join('\n')}\n`
}

/** The `Content-Type` of {@link renderPrometheus}'s output. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

function histogram(out: string[], name: string, labels: [string, string][], snapshot: HistogramSnapshot): void {
  let cumulative = 0
  snapshot.bucketsMs.forEach((boundMs, i) => {
    cumulative += snapshot.counts[i] ?? 0
    out.push(`${name}_bucket${formatLabels([...labels, ['le', formatValue(boundMs / 1000)]])} ${cumulative}`)
  })
  out.push(`${name}_bucket${formatLabels([...labels, ['le', '+Inf']])} ${snapshot.count}`)
  out.push(`${name}_sum${formatLabels(labels)} ${formatValue(snapshot.sumMs / 1000)}`)
  out.push(`${name}_count${formatLabels(labels)} ${snapshot.count}`)
}

function formatLabels(labels: [string, string][]): string {
  if (labels.length === 0) return ''
  return `{${labels.map(([name, value]) => `${name}="${escapeLabel(value)}"`).join(',')}}`
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Number.POSITIVE_INFINITY) return '+Inf'
  if (value === Number.NEGATIVE_INFINITY) return '-Inf'
  return String(value)
}
