import type { EntityStats } from '@tiercache/core'

/**
 * tiercache's counters as a service exports them on `/metrics` (`cache.metrics()`, Prometheus text
 * format; names in docs/metrics.md), read back per entity. Histograms are left out: a one-off
 * reading of a cumulative histogram says little.
 */

/**
 * The counters of one entity in one exporting cache (`labels` tells caches of one namespace
 * apart): the fields of the core's `EntityStats`, as read back from their metrics, with
 * `invalidations` named `invalidationsSent` beside `invalidationsReceived`.
 */
export interface EntityCounters extends Omit<EntityStats, 'invalidations'> {
  namespace: string
  entity: string
  /** Labels other than tiercache's own (e.g. `instance`), as the service added them. */
  labels: Record<string, string>
  /** (l1Hits + l2Hits) / (hits + stale + misses); `null` before the first read. */
  hitRatio: number | null
  /** Ids invalidated by that instance (`EntityStats.invalidations`). */
  invalidationsSent: number
  /** Keys hot in that instance now (`tiercache_hot_keys`). */
  hotKeys: number
}

/** The L2 circuit breaker of one exporting cache. */
export interface BreakerReading {
  namespace: string
  labels: Record<string, string>
  state: string
  opens: number
}

/** Everything tiercache exported on one `/metrics` page. */
export interface ServiceMetrics {
  entities: EntityCounters[]
  breakers: BreakerReading[]
}

// Metric name (without `tiercache_`) → counter field; `tier` and `direction` pick among several.
const FIELDS: Record<string, keyof EntityCounters> = {
  'hits_total|l1': 'l1Hits',
  'hits_total|l2': 'l2Hits',
  stale_served_total: 'staleServed',
  misses_total: 'misses',
  loads_total: 'loads',
  load_errors_total: 'loadErrors',
  load_timeouts_total: 'loadTimeouts',
  lock_waits_total: 'lockWaits',
  early_refreshes_total: 'earlyRefreshes',
  l2_errors_total: 'l2Errors',
  l2_timeouts_total: 'l2Timeouts',
  corrupt_entries_total: 'corruptEntries',
  schema_mismatches_total: 'schemaMismatches',
  uncacheable_values_total: 'uncacheableValues',
  'invalidations_total|sent': 'invalidationsSent',
  'invalidations_total|received': 'invalidationsReceived',
  hot_keys: 'hotKeys',
}
// Labels tiercache itself puts on its series; any other label is the service's.
const OWN_LABELS = new Set(['namespace', 'entity', 'tier', 'direction', 'state', 'le'])
const SAMPLE = /^tiercache_([a-z0-9_]+)(?:\{(.*)\})?\s+(\S+)/
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g

/** Reads tiercache's series out of a Prometheus text page; other series and comments are skipped. */
export function parseServiceMetrics(text: string): ServiceMetrics {
  const entities = new Map<string, EntityCounters>()
  const breakers = new Map<string, BreakerReading>()
  for (const line of text.split('\n')) {
    const match = SAMPLE.exec(line)
    if (match === null) continue
    const [, name = '', labelText = '', valueText = ''] = match
    const labels: Record<string, string> = {}
    for (const [, label = '', value = ''] of labelText.matchAll(LABEL))
      labels[label] = value.replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c))
    const value = Number(valueText)
    const namespace = labels.namespace ?? ''
    const own = Object.fromEntries(Object.entries(labels).filter(([label]) => !OWN_LABELS.has(label)))
    const group = `${namespace}|${JSON.stringify(own)}`
    if (name === 'breaker_state' || name === 'breaker_opens_total') {
      const breaker = breakers.get(group) ?? { namespace, labels: own, state: 'unknown', opens: 0 }
      breakers.set(group, breaker)
      if (name === 'breaker_opens_total') breaker.opens = value
      else if (value === 1 && labels.state !== undefined) breaker.state = labels.state
      continue
    }
    const field = FIELDS[name] ?? FIELDS[`${name}|${labels.tier ?? labels.direction}`]
    if (field === undefined || labels.entity === undefined) continue
    const key = `${group}|${labels.entity}`
    let counters = entities.get(key)
    if (counters === undefined) {
      counters = emptyCounters(namespace, labels.entity, own)
      entities.set(key, counters)
    }
    ;(counters as unknown as Record<string, number>)[field] = value
  }
  for (const counters of entities.values()) {
    const reads = counters.l1Hits + counters.l2Hits + counters.staleServed + counters.misses
    counters.hitRatio = reads === 0 ? null : (counters.l1Hits + counters.l2Hits) / reads
  }
  return { entities: [...entities.values()], breakers: [...breakers.values()] }
}

function emptyCounters(namespace: string, entity: string, labels: Record<string, string>): EntityCounters {
  // Every counter has a metric, so the table lists them all: a series missing from the page reads 0.
  const counters: Record<string, unknown> = { namespace, entity, labels, hitRatio: null }
  for (const field of Object.values(FIELDS)) counters[field] = 0
  return counters as unknown as EntityCounters
}
