import type { FaultWindow } from './checker.js'
import type { SlowReadDetail } from './protocol.js'

/** Slow reads grouped by what they had in common, so a report says where their time went. */
export interface SlowReadSummary {
  readonly count: number
  /** By the tier that answered (`batch` for getMany, `joined` for reads that joined a flight). */
  readonly byTier: Record<string, number>
  /** By the fault under way when the read started (`calm` between faults). */
  readonly byFault: Record<string, number>
  /** Of all the slow reads' time, the share spent in their own loaders. */
  readonly loaderShare: number
  /** Slow reads whose worker's event loop stalled for over half their duration. */
  readonly loopStalled: number
  /** By the L2 call that took longest in the read (`none` when it made none). */
  readonly byLongestCall: Record<string, number>
}

/** Groups `details` (reads slower than `overMs`) by tier, fault, longest L2 call; measures the loaders' share. */
export function summarizeSlowReads(details: readonly SlowReadDetail[], faults: readonly FaultWindow[], overMs: number): SlowReadSummary {
  const slow = details.filter((d) => d.end - d.start > overMs)
  const byTier: Record<string, number> = {}
  const byFault: Record<string, number> = {}
  const byLongestCall: Record<string, number> = {}
  let total = 0
  let loader = 0
  let loopStalled = 0
  for (const read of slow) {
    const duration = read.end - read.start
    total += duration
    loader += Math.min(read.loaderMs, duration)
    if (read.loopLagMaxMs > duration / 2) loopStalled++
    bump(byTier, read.tier)
    bump(byFault, faultKindAt(faults, read.start))
    bump(byLongestCall, longestCall(read.steps))
  }
  return { count: slow.length, byTier, byFault, loaderShare: total === 0 ? 0 : loader / total, loopStalled, byLongestCall }
}

/** The kind of the fault whose window holds `at` ("kill master 1234" -> "kill master"), or `calm`. */
export function faultKindAt(faults: readonly FaultWindow[], at: number): string {
  const fault = faults.find((f) => f.start <= at && at <= f.end)
  return fault === undefined ? 'calm' : fault.label.replace(/ \d.*$/, '').replace(/ for \d+ ms$/, '')
}

/** `op>1s` for the slowest step (`load` for the loader), bucketed by duration; `none` without steps. */
function longestCall(steps: readonly string[]): string {
  let worst = ''
  let worstMs = -1
  for (const step of steps) {
    const match = /^(!?[A-Za-z]+)@\d+\+(\d+)/.exec(step)
    if (match === null) continue
    const ms = Number(match[2])
    if (ms > worstMs) {
      worstMs = ms
      worst = match[1] as string
    }
  }
  if (worstMs < 0) return 'none'
  return `${worst} ${worstMs >= 1_000 ? '>=1s' : worstMs >= 100 ? '100ms-1s' : '<100ms'}`
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1
}
