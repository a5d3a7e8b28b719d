import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'

/** Prints a titled table with right-aligned columns (the first column left-aligned). */
export function printTable(title: string, headers: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = headers.map((header, c) => Math.max(header.length, ...rows.map((row) => (row[c] ?? '').length)))
  const line = (cells: readonly string[]): string =>
    cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] as number) : cell.padStart(widths[c] as number))).join('  ')
  console.log(`\n${title}`)
  console.log(line(headers))
  console.log(widths.map((w) => '-'.repeat(w)).join('  '))
  for (const row of rows) console.log(line(row))
}

/** Operations per second with thousands separators. */
export function formatRate(opsPerSec: number): string {
  return Math.round(opsPerSec).toLocaleString('en-US')
}

/** Microseconds: three decimals under 1 µs, two under 10 µs, one above. */
export function formatUs(us: number): string {
  return us < 1 ? us.toFixed(3) : us < 10 ? us.toFixed(2) : us.toFixed(1)
}

/** Milliseconds with one decimal (two under 1 ms). */
export function formatMs(ms: number): string {
  return ms < 1 ? ms.toFixed(2) : ms.toFixed(1)
}

/** A ratio as a percentage. */
export function formatPercent(ratio: number): string {
  return `${(ratio * 100).toFixed(1)}%`
}

/** Writes `data` as indented JSON, creating the folder. */
export function writeJson(path: string, data: unknown): void {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`)
}
