import { type MetricFamily, metricFamilies, type TierCache, TierCacheError } from '@tiercache/core'
import { Counter, Gauge, type Registry } from 'prom-client'
import { SnapshotHistogram } from './snapshot-histogram.js'

/**
 * Registers every metric of `caches` (the names, labels and help of `cache.metrics()`,
 * docs/metrics.md) in a prom-client `registry`. Nothing is counted twice and the read path pays
 * nothing: the metrics are collector callbacks that read the caches' own counters and histograms
 * when the registry is scraped (`registry.metrics()`), one reading per cache per scrape.
 *
 * Several caches share one set of metrics, told apart by their `namespace` label. prom-client
 * allows one metric per name in a registry: register all of a process's caches in one call.
 * Constant labels (instance, service) are the registry's: `registry.setDefaultLabels(...)`.
 * Use the registry's default Prometheus content type: in OpenMetrics mode prom-client appends
 * `_total` to counter names, which already end in it.
 *
 * Throws `INVALID_CONFIG` without a cache. Returns a function that removes the metrics from the registry again (e.g. when the caches close).
 *
 * @example
 * const registry = new Registry()
 * registerCacheMetrics(registry, cache)
 * app.get('/metrics', async (_, res) => res.type(registry.contentType).send(await registry.metrics()))
 */
export function registerCacheMetrics(registry: Registry, ...caches: TierCache[]): () => void {
  if (caches.length === 0) throw new TierCacheError('INVALID_CONFIG', 'registerCacheMetrics: pass at least one cache after the registry')
  // registry.metrics() calls every collector in one synchronous pass: read each cache once
  // then, and forget the reading when the pass is over.
  let current: MetricFamily[][] | undefined
  const series = (index: number) => {
    if (current === undefined) {
      current = caches.map((cache) => metricFamilies(cache.metricsReading()))
      queueMicrotask(() => {
        current = undefined
      })
    }
    return current.flatMap((families) => families[index]?.series ?? [])
  }

  const families = metricFamilies(caches[0]!.metricsReading())
  const names = families.map(({ name, type, help, labelNames }, index) => {
    const configuration = { name, help, labelNames, registers: [registry] }
    if (type === 'histogram') {
      new SnapshotHistogram(configuration, () => series(index))
    } else if (type === 'counter') {
      new Counter({
        ...configuration,
        collect() {
          this.reset()
          for (const { labels, value } of series(index)) this.inc(labels, value ?? 0)
        },
      })
    } else {
      new Gauge({
        ...configuration,
        collect() {
          this.reset()
          for (const { labels, value } of series(index)) this.set(labels, value ?? 0)
        },
      })
    }
    return name
  })
  return () => {
    for (const name of names) registry.removeSingleMetric(name)
  }
}
