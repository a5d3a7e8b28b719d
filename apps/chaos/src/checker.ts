import { READ_FIELDS } from './protocol.js'

/** An invalidation that resolved: from `resolvedAt` on, reads must see `version` or newer. */
export interface InvalidationRecord {
  readonly key: number
  readonly version: number
  readonly resolvedAt: number
}

/** When a fault began and when the cluster was whole again after it (ms since the epoch). */
export interface FaultWindow {
  readonly label: string
  readonly start: number
  readonly end: number
}

/** A read that returned a version older than an invalidation it started after, past the bound. */
export interface StaleRead {
  readonly key: number
  readonly got: number
  readonly expected: number
  /** How long after the invalidation's deadline (resolve time, or cluster whole, plus the bound) the read started. */
  readonly lateByMs: number
  readonly start: number
  /** Who read and which tier answered (see `describeHow`). */
  readonly how: number
  /** When the invalidation that asked for `expected` resolved (ms since the epoch). */
  readonly invalidatedAt: number
}

/** What the checker found. */
export interface CheckReport {
  readonly reads: number
  readonly invalidations: number
  readonly staleReads: StaleRead[]
  readonly slowReads: number
  readonly slowestReadMs: number
}

/**
 * Holds every read against every invalidation. The promise checked: a read that starts later than
 * `boundMs` after an invalidation of its key resolved returns that version or a newer one. When a
 * fault overlaps that interval, the bound counts from the moment the cluster was whole again
 * (chained over back-to-back faults), because the documented bound during a failover is "within
 * `boundMs` after the cluster is whole". Reads that took longer than `slowMs` are counted.
 */
export function checkReads(
  reads: readonly number[],
  invalidations: readonly InvalidationRecord[],
  faults: readonly FaultWindow[],
  options: { readonly boundMs: number; readonly slowMs: number },
): CheckReport {
  const sortedFaults = [...faults].sort((a, b) => a.start - b.start)
  const deadlinesByKey = new Map<number, { deadline: number; version: number; resolvedAt: number }[]>()
  for (const invalidation of invalidations) {
    const deadline = deadlineOf(invalidation.resolvedAt, sortedFaults, options.boundMs)
    const list = deadlinesByKey.get(invalidation.key) ?? []
    deadlinesByKey.set(invalidation.key, list)
    list.push({ deadline, version: invalidation.version, resolvedAt: invalidation.resolvedAt })
  }
  // Per key: deadlines ascending with the highest version required by then (a prefix maximum)
  // and when the invalidation that asked for it resolved.
  const required = new Map<number, { deadlines: number[]; versions: number[]; resolvedAts: number[] }>()
  for (const [key, list] of deadlinesByKey) {
    list.sort((a, b) => a.deadline - b.deadline)
    let highest = { version: 0, resolvedAt: 0 }
    const maxima = list.map((entry) => (highest = entry.version > highest.version ? entry : highest))
    required.set(key, {
      deadlines: list.map((entry) => entry.deadline),
      versions: maxima.map((entry) => entry.version),
      resolvedAts: maxima.map((entry) => entry.resolvedAt),
    })
  }

  const staleReads: StaleRead[] = []
  let slowReads = 0
  let slowestReadMs = 0
  for (let i = 0; i + READ_FIELDS <= reads.length; i += READ_FIELDS) {
    const key = reads[i] as number
    const got = reads[i + 1] as number
    const start = reads[i + 2] as number
    const duration = (reads[i + 3] as number) - start
    if (duration > options.slowMs) slowReads++
    slowestReadMs = Math.max(slowestReadMs, duration)
    const rule = required.get(key)
    if (rule === undefined) continue
    const index = lastAtOrBefore(rule.deadlines, start)
    if (index < 0) continue
    const expected = rule.versions[index] as number
    if (got < expected) {
      const late = start - (rule.deadlines[index] as number)
      staleReads.push({
        key,
        got,
        expected,
        lateByMs: late,
        start,
        how: reads[i + 4] as number,
        invalidatedAt: rule.resolvedAts[index] as number,
      })
    }
  }
  return { reads: reads.length / READ_FIELDS, invalidations: invalidations.length, staleReads, slowReads, slowestReadMs }
}

/** The moment from which the invalidation must be seen: resolve time, pushed past overlapping faults, plus the bound. */
export function deadlineOf(resolvedAt: number, faults: readonly FaultWindow[], boundMs: number): number {
  let from = resolvedAt
  for (const fault of faults) {
    if (fault.start > from + boundMs) break
    if (fault.end > from) from = fault.end
  }
  return from + boundMs
}

function lastAtOrBefore(sorted: readonly number[], value: number): number {
  let low = 0
  let high = sorted.length - 1
  let found = -1
  while (low <= high) {
    const middle = (low + high) >> 1
    if ((sorted[middle] as number) <= value) {
      found = middle
      low = middle + 1
    } else high = middle - 1
  }
  return found
}
