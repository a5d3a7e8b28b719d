import type { MetricSeries } from '@tiercache/core'
import { Histogram, type HistogramConfiguration, type MetricObjectWithValues, type MetricType, type MetricValueWithName } from 'prom-client'

// prom-client's typings declare MetricType as an enum its JavaScript does not export: the value is the string.
const HISTOGRAM = 'histogram' as unknown as MetricType

/**
 * A prom-client histogram whose buckets come from tiercache's own histograms at scrape time.
 * prom-client has no public way to set a histogram's buckets (only `observe`), so this one
 * answers `get()` (and `getForPromString()`, which the registry prefers) with the buckets of the
 * series `read` returns, in the shape prom-client's own histograms return: cumulative `_bucket`
 * values with `le` in seconds, `_sum` in seconds, `_count`.
 */
export class SnapshotHistogram extends Histogram<string> {
  private readonly metricName: string
  private readonly metricHelp: string

  constructor(
    configuration: HistogramConfiguration<string>,
    private readonly read: () => readonly MetricSeries[],
  ) {
    super(configuration)
    this.metricName = configuration.name
    this.metricHelp = configuration.help
  }

  override async get() {
    return this.snapshot()
  }

  async getForPromString() {
    return this.snapshot()
  }

  private snapshot(): MetricObjectWithValues<MetricValueWithName<string>> {
    const values = this.read().flatMap(({ labels, histogram }) => {
      if (histogram === undefined) return []
      let cumulative = 0
      const buckets = histogram.bucketsMs.map((boundMs, i) => {
        cumulative += histogram.counts[i] ?? 0
        return { labels: { ...labels, le: boundMs / 1000 }, value: cumulative, metricName: `${this.metricName}_bucket` }
      })
      return [
        ...buckets,
        { labels: { ...labels, le: '+Inf' }, value: histogram.count, metricName: `${this.metricName}_bucket` },
        { labels: { ...labels }, value: histogram.sumMs / 1000, metricName: `${this.metricName}_sum` },
        { labels: { ...labels }, value: histogram.count, metricName: `${this.metricName}_count` },
      ]
    })
    return { name: this.metricName, help: this.metricHelp, type: HISTOGRAM, values, aggregator: 'sum', collect: () => {} }
  }
}
