import { messageOf } from '@tiercache/redis-common'
import { fetchHotKeys } from '../service/hot-keys.js'
import { parseServiceMetrics } from '../service/service-metrics.js'
import { defineCommand, EXIT, printJson } from './command.js'
import { positiveInteger, UsageError } from './connection-flags.js'
import { checkName } from './entry-flags.js'
import { type StatsReport, statsText } from './stats-text.js'

const USAGE = `Usage: tiercache stats --service URL [options]

Prints a running service's tiercache counters per entity (hits by tier, stale, misses, hit ratio,
loads, errors, invalidations sent and received, hot keys), its L2 breaker, and its hot keys.
The service must serve cache.metrics() (Prometheus text) on its metrics route; for the hot keys
themselves, also cache.hotKeys() as JSON on a route of its own.

Options:
  --service URL        the service's base URL, e.g. http://10.0.1.7:3000 (required)
  --metrics-url U      its metrics route, a path or a URL (default /metrics)
  --hot-keys-url U     its hot-keys route, a path or a URL (JSON of cache.hotKeys());
                       without it only the number of hot keys per entity is shown
  --namespace NS       only this namespace's entities
  --timeout MS         HTTP timeout (default 3000)
  --json               print the report as JSON
  -h, --help           this text

Exit status: 0 read, 2 bad command line, 3 the service could not be read (unreachable, an HTTP
error, no tiercache metrics on the page, or the hot-keys route failed).
`

const FLAGS = {
  service: { type: 'string' },
  'metrics-url': { type: 'string' },
  'hot-keys-url': { type: 'string' },
  namespace: { type: 'string' },
  timeout: { type: 'string' },
} as const

/** `tiercache stats`: a running service's counters and hot keys. */
export const statsCommand = defineCommand({
  name: 'stats',
  summary: "print a running service's counters per entity and its hot keys (from its /metrics)",
  usage: USAGE,
  flags: FLAGS,
  async body(values) {
    if (values.service === undefined) throw new UsageError('--service is required (the base URL of a running service)')
    const service = httpUrl('--service', values.service)
    const metricsUrl = httpUrl('--metrics-url', values['metrics-url'] ?? '/metrics', service)
    const hotKeysUrl = values['hot-keys-url'] === undefined ? undefined : httpUrl('--hot-keys-url', values['hot-keys-url'], service)
    const namespace = values.namespace === undefined ? undefined : checkName('--namespace', values.namespace)
    const timeoutMs = values.timeout === undefined ? 3_000 : positiveInteger('--timeout', values.timeout)

    const metrics = parseServiceMetrics(await fetchText(metricsUrl, timeoutMs))
    if (metrics.entities.length === 0 && metrics.breakers.length === 0) {
      throw new Error(`no tiercache_ metrics at ${metricsUrl}: serve cache.metrics() on that route (see docs/metrics.md)`)
    }
    const keep = <T extends { namespace: string }>(rows: T[]) =>
      namespace === undefined ? rows : rows.filter((row) => row.namespace === namespace)
    const report: StatsReport = { metricsUrl, entities: keep(metrics.entities), breakers: keep(metrics.breakers) }
    if (hotKeysUrl !== undefined) report.hotKeys = await fetchHotKeys(hotKeysUrl, timeoutMs)
    if (values.json === true) printJson(report)
    else process.stdout.write(statsText(report))
    return report.hotKeys !== undefined && 'error' in report.hotKeys ? EXIT.FAILED : EXIT.OK
  },
})

/** `value` as an http(s) URL, resolved against `base` when it is a path; {@link UsageError} otherwise. */
function httpUrl(flag: string, value: string, base?: string): string {
  let url: URL
  try {
    url = new URL(value, base)
  } catch {
    throw new UsageError(
      `${flag} must be an http:// or https:// URL${base === undefined ? '' : ' or a path'}, got ${JSON.stringify(value)}`,
    )
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`${flag} must be an http:// or https:// URL, got ${JSON.stringify(value)}`)
  return url.href
}

async function fetchText(url: string, timeoutMs: number): Promise<string> {
  let response: Response
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause
    throw new Error(`cannot read ${url}: ${messageOf(cause ?? error)}`)
  }
  if (!response.ok) throw new Error(`${url} answered HTTP ${response.status} ${response.statusText}`)
  return response.text()
}
