/**
 * The source of time of a cache, in milliseconds since the epoch. Injected so that TTL, grace,
 * early refresh and breaker logic are tested exactly, without sleeps.
 */
export interface Clock {
  now(): number
}

/** A source of uniform random numbers in [0, 1). Injected for the same reason as {@link Clock}. */
export type RandomSource = () => number

/** The wall clock (`Date.now`). */
export const systemClock: Clock = { now: () => Date.now() }

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(private current = 1_700_000_000_000) {}
  now(): number {
    return this.current
  }
  /** Moves time forward by `ms` milliseconds. */
  advance(ms: number): void {
    this.current += ms
  }
  /** Sets the time to `ms` since the epoch. */
  set(ms: number): void {
    this.current = ms
  }
}
