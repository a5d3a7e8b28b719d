import { table } from '../doctor/report-text.js'
import type { ServiceHotKeys } from '../service/hot-keys.js'
import type { EntityCounters, ServiceMetrics } from '../service/service-metrics.js'

/** What `tiercache stats` read from one service; `--json` prints it as is. */
export interface StatsReport extends ServiceMetrics {
  metricsUrl: string
  hotKeys?: ServiceHotKeys
}

/** `tiercache stats` for a person: a table of counters per exporting cache, its breaker, and the hot keys. */
export function statsText(report: StatsReport): string {
  const lines = [`tiercache stats: ${report.metricsUrl}`]
  const groups = new Map<string, EntityCounters[]>()
  for (const row of report.entities) {
    const heading = title(row.namespace, row.labels)
    groups.set(heading, [...(groups.get(heading) ?? []), row])
  }
  for (const [heading, rows] of groups) {
    lines.push('', heading)
    lines.push(
      ...table(
        [
          'entity',
          'l1 hits',
          'l2 hits',
          'stale',
          'misses',
          'hit ratio',
          'loads',
          'load errors',
          'l2 errors',
          'corrupt',
          'inval sent',
          'inval received',
          'hot keys',
        ],
        rows.map((row) => [
          row.entity,
          String(row.l1Hits),
          String(row.l2Hits),
          String(row.staleServed),
          String(row.misses),
          row.hitRatio === null ? '-' : `${(100 * row.hitRatio).toFixed(1)}%`,
          String(row.loads),
          String(row.loadErrors + row.loadTimeouts),
          String(row.l2Errors),
          String(row.corruptEntries + row.schemaMismatches),
          String(row.invalidationsSent),
          String(row.invalidationsReceived),
          String(row.hotKeys),
        ]),
      ),
    )
    const breaker = report.breakers.find((b) => title(b.namespace, b.labels) === heading)
    if (breaker !== undefined)
      lines.push(`  L2 breaker: ${breaker.state} (opened ${breaker.opens} ${breaker.opens === 1 ? 'time' : 'times'})`)
  }
  const hot = report.hotKeys
  if (hot !== undefined) {
    lines.push('', `Hot keys (${hot.url})`)
    if ('error' in hot) lines.push(`  could not read them: ${hot.error}`)
    else if (hot.keys.length === 0) lines.push('  none right now')
    else
      lines.push(
        ...table(
          ['entity', 'id', 'reads/s'],
          hot.keys.map((key) => [key.entity, key.id, String(Math.round(key.rate))]),
        ),
      )
  }
  return `${lines.join('\n')}\n`
}

function title(namespace: string, labels: Record<string, string>): string {
  const extra = Object.entries(labels).map(([label, value]) => `${label}=${value}`)
  return `namespace ${namespace}${extra.length === 0 ? '' : ` (${extra.join(', ')})`}`
}
