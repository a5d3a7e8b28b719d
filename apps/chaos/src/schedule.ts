import { seeded } from '@tiercache/testkit/helpers'
import { between } from './draw.js'

/** One fault the schedule injects. Nodes are picked when the fault runs, from the live topology. */
export type Fault =
  | { readonly kind: 'kill-master' }
  | { readonly kind: 'kill-replica' }
  | { readonly kind: 'pause-master'; readonly pauseMs: number }
  | { readonly kind: 'pause-replica'; readonly pauseMs: number }
  | { readonly kind: 'kill-pubsub' }
  | { readonly kind: 'move-slots'; readonly count: number }

/** A fault and the quiet time that follows it before the next one. */
export interface ScheduledFault {
  readonly fault: Fault
  /** Milliseconds of steady load after the cluster is whole again. */
  readonly calmMs: number
  /** Index used to pick nodes and slots deterministically when the fault runs. */
  readonly pick: number
}

// Relative weights: failovers and slot moves are what lose writes, so they come most often.
const WEIGHTS: readonly [Fault['kind'], number][] = [
  ['kill-master', 3],
  ['pause-master', 2],
  ['kill-replica', 1],
  ['pause-replica', 1],
  ['kill-pubsub', 2],
  ['move-slots', 3],
]

/**
 * The faults of one run, drawn from `seed`: as many as fit in `durationMs` at a rough cost per
 * fault (a failover and the repair after it take a few seconds on a 3+3 cluster), at least one.
 * A prefix of {@link faultsOf}; a run that goes by the clock uses that instead.
 */
export function buildSchedule(seed: number, durationMs: number): ScheduledFault[] {
  const faults: ScheduledFault[] = []
  let budget = durationMs
  for (const scheduled of faultsOf(seed)) {
    faults.push(scheduled)
    budget -= scheduled.calmMs + ROUGH_COST_MS[scheduled.fault.kind]
    if (budget <= 0) break
  }
  return faults
}

/**
 * The endless seeded sequence of faults: a run takes faults from it until its time is up, so
 * `--duration 600` injects faults for 600 s whatever each one takes on the machine (the rough
 * costs above overestimate a fast machine's and underestimate a loaded one's), and the same seed
 * replays the same faults in the same order.
 */
export function* faultsOf(seed: number): Generator<ScheduledFault> {
  const random = seeded(seed)
  const total = WEIGHTS.reduce((sum, [, weight]) => sum + weight, 0)
  for (;;) {
    let draw = random() * total
    let kind: Fault['kind'] = 'kill-master'
    for (const [candidate, weight] of WEIGHTS) {
      draw -= weight
      if (draw < 0) {
        kind = candidate
        break
      }
    }
    const fault = makeFault(kind, random)
    const calmMs = between(random, 300, 1_500)
    yield { fault, calmMs, pick: between(random, 0, 1_000_000) }
  }
}

const ROUGH_COST_MS: Record<Fault['kind'], number> = {
  'kill-master': 6_000,
  'pause-master': 5_000,
  'kill-replica': 2_500,
  'pause-replica': 2_000,
  'kill-pubsub': 500,
  'move-slots': 4_000,
}

function makeFault(kind: Fault['kind'], random: () => number): Fault {
  switch (kind) {
    case 'pause-master':
    case 'pause-replica':
      // Shorter than the node timeout (1 s) is a stall; longer is a failover.
      return { kind, pauseMs: between(random, 300, 2_500) }
    case 'move-slots':
      return { kind, count: between(random, 50, 600) }
    default:
      return { kind }
  }
}
