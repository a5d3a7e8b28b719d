/** One bar of a chart. */
export interface Bar {
  label: string
  value: number
  /** Shown at the end of the bar instead of the value. */
  text?: string
  highlight?: boolean
}

/** A horizontal bar chart: groups of bars (one group per concurrency, route, ...). */
export interface BarChart {
  kind: 'bars'
  file: string
  title: string
  /** Unit shown on the axis (e.g. "ops/s"). */
  unit: string
  groups: { label: string; bars: Bar[] }[]
  /** Bars on a log10 scale (for values spanning orders of magnitude). */
  log?: boolean
}

/** A stacked 100% bar per row (e.g. each master's share of GETs). */
export interface StackedChart {
  kind: 'stacked'
  file: string
  title: string
  rows: { label: string; parts: number[]; highlight?: boolean }[]
  partLabel: (index: number) => string
}

export type Chart = BarChart | StackedChart

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"'
const COLORS = { tiercache: '#2563eb', other: '#9ca3af', text: '#111827', grid: '#e5e7eb' }
const PARTS = ['#1d4ed8', '#60a5fa', '#93c5fd', '#f59e0b', '#fbbf24', '#fde68a']

function escapeXml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`)
}

function compact(value: number): string {
  if (!Number.isFinite(value)) return '-'
  const abs = Math.abs(value)
  if (abs >= 1e6) return `${(value / 1e6).toFixed(abs >= 1e7 ? 1 : 2)}M`
  if (abs >= 1e3) return `${(value / 1e3).toFixed(abs >= 1e4 ? 0 : 1)}k`
  return abs >= 100 ? value.toFixed(0) : abs >= 10 ? value.toFixed(1) : value.toFixed(2)
}

/** Renders `chart` as a standalone SVG document. */
export function renderSvg(chart: Chart): string {
  return chart.kind === 'bars' ? renderBars(chart) : renderStacked(chart)
}

function renderBars(chart: BarChart): string {
  const labelWidth = 230
  const plotWidth = 420
  const valueWidth = 90
  const barHeight = 18
  const gap = 6
  const width = labelWidth + plotWidth + valueWidth
  const values = chart.groups.flatMap((g) => g.bars.map((b) => b.value)).filter((v) => Number.isFinite(v) && v > 0)
  const max = Math.max(...values, 1)
  const min = Math.min(...values, max)
  const scale = (v: number): number => {
    if (!Number.isFinite(v) || v <= 0) return 0
    if (!chart.log) return (v / max) * plotWidth
    const lo = Math.log10(Math.min(min, 1))
    const hi = Math.log10(max)
    return hi === lo ? plotWidth : Math.max(2, ((Math.log10(v) - lo) / (hi - lo)) * plotWidth)
  }
  const parts: string[] = []
  let y = 44
  for (const group of chart.groups) {
    if (group.label !== '') {
      parts.push(`<text x="8" y="${y + 12}" font-size="12" font-weight="600" fill="${COLORS.text}">${escapeXml(group.label)}</text>`)
      y += 20
    }
    for (const bar of group.bars) {
      const w = scale(bar.value)
      const color = bar.highlight ? COLORS.tiercache : COLORS.other
      parts.push(
        `<text x="${labelWidth - 8}" y="${y + 13}" font-size="12" text-anchor="end" fill="${COLORS.text}"${bar.highlight ? ' font-weight="600"' : ''}>${escapeXml(bar.label)}</text>`,
        `<rect x="${labelWidth}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${color}" rx="2"/>`,
        `<text x="${labelWidth + w + 6}" y="${y + 13}" font-size="12" fill="${COLORS.text}">${escapeXml(bar.text ?? compact(bar.value))}</text>`,
      )
      y += barHeight + gap
    }
    y += 8
  }
  const height = y + 24
  const axis = `${escapeXml(chart.unit)}${chart.log ? ' (log scale)' : ''}`
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT}>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="8" y="22" font-size="15" font-weight="600" fill="${COLORS.text}">${escapeXml(chart.title)}</text>`,
    `<line x1="${labelWidth}" y1="36" x2="${labelWidth}" y2="${height - 20}" stroke="${COLORS.grid}"/>`,
    ...parts,
    `<text x="${labelWidth}" y="${height - 6}" font-size="11" fill="#6b7280">${axis}; tiercache in blue</text>`,
    '</svg>',
    '',
  ].join('\n')
}

function renderStacked(chart: StackedChart): string {
  const labelWidth = 300
  const plotWidth = 420
  const barHeight = 20
  const gap = 8
  const width = labelWidth + plotWidth + 20
  const parts: string[] = []
  let y = 44
  for (const row of chart.rows) {
    parts.push(
      `<text x="${labelWidth - 8}" y="${y + 14}" font-size="12" text-anchor="end" fill="${COLORS.text}"${row.highlight ? ' font-weight="600"' : ''}>${escapeXml(row.label)}</text>`,
    )
    let x = labelWidth
    row.parts.forEach((share, i) => {
      const w = Math.max(0, share) * plotWidth
      parts.push(`<rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${PARTS[i % PARTS.length]}"/>`)
      if (w > 34)
        parts.push(
          `<text x="${(x + w / 2).toFixed(1)}" y="${y + 14}" font-size="11" text-anchor="middle" fill="#ffffff">${(share * 100).toFixed(0)}%</text>`,
        )
      x += w
    })
    y += barHeight + gap
  }
  const legendY = y + 10
  const parts2 = (chart.rows[0]?.parts ?? []).map(
    (_, i) =>
      `<rect x="${labelWidth + i * 110}" y="${legendY}" width="10" height="10" fill="${PARTS[i % PARTS.length]}"/><text x="${labelWidth + i * 110 + 14}" y="${legendY + 9}" font-size="11" fill="${COLORS.text}">${escapeXml(chart.partLabel(i))}</text>`,
  )
  const height = legendY + 28
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT}>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="8" y="22" font-size="15" font-weight="600" fill="${COLORS.text}">${escapeXml(chart.title)}</text>`,
    ...parts,
    ...parts2,
    '</svg>',
    '',
  ].join('\n')
}
