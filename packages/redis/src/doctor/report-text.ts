import { formatSlotRanges, slotCount } from '../deployment/cluster-nodes.js'
import type { NodeFacts } from '../deployment/node-facts.js'
import type { DoctorReport } from './doctor.js'

const KIND = { cluster: 'Redis Cluster', standalone: 'standalone Redis', sentinel: 'Redis with Sentinel' } as const

/** The doctor's report for a person: topology, nodes, namespace, hot keys, findings, verdict. */
export function reportText(report: DoctorReport): string {
  const { topology } = report
  const out: string[] = []
  const masters = topology.shards.length
  const replicas = topology.shards.reduce((sum, shard) => sum + shard.replicas.length, 0)
  out.push(
    `tiercache doctor: ${KIND[topology.kind]}, ${plural(masters, topology.kind === 'cluster' ? 'master' : 'primary', topology.kind === 'cluster' ? 'masters' : 'primaries')}, ${plural(replicas, 'replica')} (described by ${topology.describedBy})`,
    '',
    'Topology',
  )
  for (const shard of topology.shards) {
    const down = (address: string) => (shard.failing.includes(address) ? '  [flagged down]' : '')
    const slots =
      topology.kind === 'cluster'
        ? `  slots ${shard.slots.length === 0 ? 'none' : `${formatSlotRanges(shard.slots)} (${slotCount(shard.slots)})`}`
        : ''
    out.push(`  ${topology.kind === 'cluster' ? 'master' : 'primary'} ${shard.master}${slots}${down(shard.master)}`)
    for (const replica of shard.replicas) out.push(`    replica ${replica}${down(replica)}`)
  }
  if (topology.uncoveredSlots !== undefined && topology.uncoveredSlots.length > 0) {
    out.push(`  no master: slots ${formatSlotRanges(topology.uncoveredSlots)} (${slotCount(topology.uncoveredSlots)})`)
  }
  if (topology.sentinels.length > 0) out.push(`  sentinels ${topology.sentinels.join(', ')}`)

  out.push('', 'Nodes')
  const rows = report.nodes.map((node) => nodeRow(node))
  out.push(...table(['address', 'role', 'used', 'maxmemory', 'policy', 'keys', 'hits', 'misses', 'hit rate', 'evicted'], rows))

  if (report.namespace !== undefined) {
    const count = report.namespace
    const how =
      count.method === 'exact'
        ? 'exact: every key of every master was scanned'
        : `estimate: a SCAN sample of ${count.masters.map((m) => `${m.examined} of ${m.dbsize}`).join(', ')} keys per master, scaled by DBSIZE`
    out.push('', `Namespace "${count.namespace}"`, `  ${count.method === 'exact' ? '' : '~'}${count.keys} keys (${how})`)
  }

  if (report.hotKeys !== undefined) {
    out.push('', `Hot keys (${report.hotKeys.url})`)
    if ('error' in report.hotKeys) out.push(`  could not read them: ${report.hotKeys.error}`)
    else if (report.hotKeys.keys.length === 0) out.push('  none right now')
    else for (const key of report.hotKeys.keys.slice(0, 20)) out.push(`  ${key.entity} ${key.id}  ${Math.round(key.rate)} reads/s`)
  }

  out.push('', 'Findings')
  if (report.findings.length === 0) out.push('  none')
  for (const finding of report.findings) out.push(`  ${finding.severity === 'risk' ? 'RISK' : 'NOTE'} ${finding.code}: ${finding.message}`)
  out.push('', report.risks === 0 ? 'No risk found.' : `${plural(report.risks, 'risk')} found.`)
  return `${out.join('\n')}\n`
}

function nodeRow(node: NodeFacts): string[] {
  if (!node.reachable) return [node.address, 'down', '-', '-', '-', '-', '-', '-', '-', node.error ?? '']
  const hits = node.keyspaceHits
  const misses = node.keyspaceMisses
  const rate = hits !== undefined && misses !== undefined && hits + misses > 0 ? `${((100 * hits) / (hits + misses)).toFixed(1)}%` : '-'
  return [
    node.address,
    node.role ?? '?',
    node.usedMemoryHuman ?? '-',
    node.maxmemory === undefined ? 'unknown' : node.maxmemory === 0 ? '0 (none)' : bytes(node.maxmemory),
    node.maxmemoryPolicy ?? 'unknown',
    String(node.keys ?? '-'),
    String(hits ?? '-'),
    String(misses ?? '-'),
    rate,
    String(node.evictedKeys ?? '-'),
  ]
}

/** Rows under a header, columns padded to their widest cell, two spaces apart and indented by two. */
export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)))
  const line = (cells: string[]) => `  ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ')}`.trimEnd()
  return [line(header), ...rows.map(line)]
}

function bytes(value: number): string {
  const units = ['B', 'K', 'M', 'G', 'T']
  let scaled = value
  let unit = 0
  while (scaled >= 1024 && unit < units.length - 1) {
    scaled /= 1024
    unit++
  }
  return `${Number.isInteger(scaled) ? scaled : scaled.toFixed(2)}${units[unit]}`
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`
}
