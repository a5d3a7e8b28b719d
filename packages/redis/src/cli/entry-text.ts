import type { EntryReport } from './entry-inspection.js'

// The payload is shown up to this many characters; --json carries all of it.
const PAYLOAD_CHARS = 200

/** `tiercache get` for a person: one labelled line per fact. */
export function entryText(report: EntryReport): string {
  const where = `key ${report.key}, slot ${report.slot} on ${report.master}`
  const name = `${report.entity} ${JSON.stringify(report.id)} in namespace "${report.namespace}"`
  const lines: string[] = []
  if (report.state === 'missing') {
    lines.push(`no entry for ${name} (${where})`)
  } else if (report.state === 'corrupt') {
    const corrupt = report.corrupt ?? { type: 'unknown', reason: 'unreadable', preview: '' }
    lines.push(`CORRUPT entry for ${name} (${where}): ${corrupt.reason}; a cache read treats it as a miss and removes it`)
    lines.push(row('type', corrupt.type))
    if (report.sizeBytes !== null) lines.push(row('size', `${report.sizeBytes} bytes`))
    if (corrupt.type === 'string') lines.push(row('starts with', JSON.stringify(corrupt.preview)))
    lines.push(row('Redis TTL', ttl(report.ttlMs)))
  } else {
    const envelope = report.envelope
    if (envelope === undefined) throw new Error('an entry without its envelope')
    const now = report.readAt
    const kind = envelope.kind === 'value' ? 'value' : `${envelope.kind} (the loader returned ${envelope.kind}; a cached absence)`
    lines.push(`${name} (${where})`)
    lines.push(row('status', `${envelope.status} ${kind}`))
    lines.push(row('created', `${iso(envelope.createdAt)} (${relative(envelope.createdAt, now)})`))
    lines.push(row('fresh until', `${iso(envelope.freshUntil)} (${relative(envelope.freshUntil, now)})`))
    lines.push(
      row(
        'stale until',
        envelope.staleUntil === envelope.freshUntil
          ? 'no grace'
          : `${iso(envelope.staleUntil)} (${relative(envelope.staleUntil, now)}; served stale within grace)`,
      ),
    )
    lines.push(row('load', `${envelope.loadMs} ms`))
    const compressed = envelope.compressed === null ? '' : `, stored as ${envelope.compressed.bytes} bytes of ${envelope.compressed.codec}`
    lines.push(row('size', `${report.sizeBytes} bytes in Redis (payload ${envelope.payloadBytes} bytes${compressed})`))
    lines.push(row('tags', envelope.tags.length === 0 ? 'none' : envelope.tags.join(', ')))
    lines.push(row('Redis TTL', ttl(report.ttlMs)))
    const payload =
      envelope.payload.length > PAYLOAD_CHARS ? `${envelope.payload.slice(0, PAYLOAD_CHARS)}... (--json shows all)` : envelope.payload
    if (envelope.kind === 'value') lines.push(row('payload', payload))
  }
  lines.push(row('lease', report.lease.held ? `held by a load in progress (${ttl(report.lease.ttlMs)} left)` : 'none'))
  const copies = report.replicas.filter((replica) => replica.state === 'copy').length
  lines.push(
    row(
      'hot copies',
      report.replicas.length === 0
        ? `none (${report.replicaCandidates} candidate ${report.replicaCandidates === 1 ? 'key' : 'keys'} checked)`
        : `${copies} of ${report.replicaCandidates} candidate keys hold a copy`,
    ),
  )
  for (const replica of report.replicas) {
    const age =
      replica.createdAt === undefined
        ? ''
        : replica.createdAt === report.envelope?.createdAt
          ? ', same as the value'
          : `, created ${iso(replica.createdAt)}`
    lines.push(`    ${replica.key} on ${replica.master}: ${replica.state}, TTL ${ttl(replica.ttlMs)}${age}`)
  }
  return `${lines.join('\n')}\n`
}

function row(label: string, text: string): string {
  return `  ${label.padEnd(12)} ${text}`
}

function iso(ms: number): string {
  return new Date(ms).toISOString()
}

function ttl(ms: number | null): string {
  return ms === null ? 'none' : span(ms)
}

function relative(at: number, now: number): string {
  return at >= now ? `in ${span(at - now)}` : `${span(now - at)} ago`
}

/** A duration for people: `850 ms`, `12.3 s`, `9 m 48 s`, `2 h 5 m`, `3 d 4 h`. */
export function span(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} m ${Math.floor((ms % 60_000) / 1_000)} s`
  if (ms < 86_400_000) return `${Math.floor(ms / 3_600_000)} h ${Math.floor((ms % 3_600_000) / 60_000)} m`
  return `${Math.floor(ms / 86_400_000)} d ${Math.floor((ms % 86_400_000) / 3_600_000)} h`
}
