import type { DemoSummary } from './demo.js'

/** The summary printed at the end of `pnpm demo`. */
export function formatSummary(summary: DemoSummary): string {
  const reads = summary.tiers.l1 + summary.tiers.l2 + summary.tiers.stale + summary.tiers.miss
  const pct = (n: number, of: number) => (of === 0 ? '-' : `${((100 * n) / of).toFixed(1)}%`)
  const num = (n: number) => n.toLocaleString('en-US')
  const ms = (n: number | null) => (n === null ? '-' : `${n.toFixed(2)} ms`)
  const lines: string[] = []
  lines.push('')
  lines.push(`tiercache demo summary (${summary.durationS} s, ${summary.mode === 'cluster' ? 'L1 + Redis Cluster L2' : 'L1 only'})`)
  lines.push(`  database            ${summary.database}`)
  lines.push(`  L2                  ${summary.l2}`)
  lines.push(
    `  requests served     ${num(summary.requests)} (${num(summary.requestsPerSecond)}/s, ${summary.errors} errors) by Express and Fastify instances`,
  )
  lines.push(
    `  database queries    ${num(summary.dbQueries)}: ${summary.requests === 0 ? '-' : (summary.dbQueries / summary.requests).toFixed(3)} per request; ${pct(summary.requests - Math.min(summary.dbQueries, summary.requests), summary.requests)} of requests spared the database`,
  )
  lines.push(
    `  cache reads         ${num(reads)}: L1 ${pct(summary.tiers.l1, reads)}, L2 ${pct(summary.tiers.l2, reads)}, stale ${pct(summary.tiers.stale, reads)}, miss ${pct(summary.tiers.miss, reads)}`,
  )
  lines.push(`  request latency     p50 ${ms(summary.latencyMs.p50)}, p99 ${ms(summary.latencyMs.p99)} (HTTP on loopback, both instances)`)
  const stampede = summary.stampede
  if (stampede.requests === 0) lines.push('  cold-start stampede not reached (the run stopped before it)')
  else
    lines.push(
      `  cold-start stampede ${stampede.requests} concurrent requests for category ${stampede.category} (cached nowhere): ${stampede.loaderCalls} loader call${stampede.loaderCalls === 1 ? '' : 's'}, ${Math.round(stampede.durationMs)} ms, ${stampede.failed} failed${summary.mode === 'l1-only' ? ' (one per instance: without L2 there is no fleet-wide lock)' : ''}`,
    )
  const flash = summary.flashSale
  const hot = Object.entries(flash.hotAfterS)
    .map(([instance, s]) => `${instance} ${s === null ? 'never' : `${s} s`}`)
    .join(', ')
  if (flash.reads === 0) lines.push('  flash sale          not reached (the run stopped before it)')
  else lines.push(`  flash sale          product ${flash.productId}: ${num(flash.reads)} reads; its stock hot after ${hot}`)
  const byMaster = Object.entries(flash.l2ReadsByMaster).sort(([a], [b]) => a.localeCompare(b))
  const l2Reads = byMaster.reduce((sum, [, n]) => sum + n, 0)
  if (flash.reads === 0) {
    // nothing to say about the hot key
  } else if (summary.mode === 'cluster' && l2Reads > 0) {
    lines.push(
      `  hot stock L2 reads  ${num(l2Reads)} once hot, over ${byMaster.length} master${byMaster.length === 1 ? '' : 's'}: ${byMaster.map(([master, n]) => `${master} ${pct(n, l2Reads)}`).join(', ')} (one key: without replicas one master takes them all)`,
    )
  } else if (summary.mode === 'cluster') {
    lines.push('  hot stock L2 reads  none recorded')
  } else {
    lines.push('  hot stock L2 reads  - (no L2)')
  }
  const c = summary.consistency
  lines.push(
    `  stale reads         ${c.pastBound} past the ${c.boundMs} ms bound (${num(c.checked)} reads of ${num(c.updates)} updated products checked; ${c.withinBound} saw the old price within the bound)`,
  )
  for (const example of c.examples) lines.push(`    past the bound: ${example}`)
  return lines.join('\n')
}
