import type { HistogramSnapshot } from './latency-histogram.js'
import { type MetricsReading, metricFamilies } from './metric-families.js'

/** Options of `cache.metrics()`. */
export interface PrometheusOptions {
  /**
   * Labels added to every series, e.g. `{ instance: 'api-1' }` when one process exports several
   * caches of the same namespace. Names must match `[a-zA-Z_][a-zA-Z0-9_]*` and not be one of
   * tiercache's (`namespace`, `entity`, `tier`, `le`, `state`, `direction`). Default none.
   */
  labels?: Readonly<Record<string, string>>
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/
// Labels tiercache's own series use: a constant label of the same name would collide with them.
const RESERVED_LABELS = new Set(['namespace', 'entity', 'tier', 'le', 'state', 'direction'])

/**
 * Renders a cache's readings in the Prometheus text exposition format (version 0.0.4): the
 * families of {@link metricFamilies}, counters and gauges per entity, latency histograms per
 * entity and tier (`_bucket` with `le` in seconds, `_sum`, `_count`). Every series carries the
 * `namespace` label, and `entity` where it is per entity.
 */
export function renderPrometheus(reading: MetricsReading, options: PrometheusOptions = {}): string {
  const constant: [string, string][] = []
  for (const [name, value] of Object.entries(options.labels ?? {})) {
    if (!LABEL_NAME.test(name) || RESERVED_LABELS.has(name)) {
      throw new TypeError(`metrics: label name ${JSON.stringify(name)} is not a valid, free Prometheus label name`)
    }
    constant.push([name, String(value)])
  }
  const out: string[] = []
  for (const family of metricFamilies(reading)) {
    out.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`)
    for (const series of family.series) {
      const labels = withConstant(series.labels, constant)
      if (family.type === 'histogram') histogram(out, family.name, labels, series.histogram as HistogramSnapshot)
      else out.push(`${family.name}${formatLabels(labels)} ${formatValue(series.value ?? 0)}`)
    }
  }
  return `${out.join('\n')}\n`
}

/** The `Content-Type` of {@link renderPrometheus}'s output. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

/** `namespace` first, then the constant labels, then the series' own: the order the exporter has always used. */
function withConstant(labels: Readonly<Record<string, string>>, constant: [string, string][]): [string, string][] {
  const { namespace, ...own } = labels
  return [['namespace', namespace ?? ''], ...constant, ...Object.entries(own)]
}

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
