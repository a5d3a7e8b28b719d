import { printTable } from './report.js'
import type { BenchResults } from './results.js'
import { buildSections, type Section } from './sections.js'
import type { BusModesResult } from './workloads/bus-modes.js'
import type { HotKeyResult } from './workloads/hot-key.js'

/** Prints a section's tables and notes to the console. */
export function printSection(section: Section): void {
  section.tables.forEach((table, i) => {
    printTable(i === 0 ? section.title : '', table.headers, table.rows)
  })
  for (const note of section.notes) console.log(`   ${note}`)
}

function printOnly(results: Omit<BenchResults, 'startedAt' | 'finishedAt' | 'environment'>): void {
  const env = {
    node: '',
    os: '',
    cpus: 0,
    cpuModel: '',
    memoryBytes: 0,
    redis: '',
    cluster: { masters: 0, replicasPerMaster: 0 },
    versions: {},
  }
  for (const section of buildSections({ startedAt: '', finishedAt: '', environment: env, ...results })) printSection(section)
}

/** Prints the bus-modes workload on its own (bus-modes.js). */
export function printBusModes(busModes: BusModesResult): void {
  printOnly({ busModes })
}

/** Prints the hot-key workload on its own (hot-key.js). */
export function printHotKey(hotKey: HotKeyResult): void {
  printOnly({ hotKey })
}
