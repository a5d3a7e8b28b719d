/**
 * @tiercache/prom-client: tiercache's metrics in a prom-client `Registry`, read from the cache
 * at scrape time. See README.md.
 */
export { registerCacheMetrics } from './register-cache-metrics.js'
