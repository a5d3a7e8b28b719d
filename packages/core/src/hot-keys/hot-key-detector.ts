/**
 * Hot-key detection for one entity in one cache instance: Space-Saving top-K over a sliding
 * window.
 *
 * The window of `windowMs` is two halves, each a {@link SpaceSaving} summary of `capacity`
 * counters. A key's estimate is the sum over both halves (counts and errors alike). At each half
 * boundary the detector decides over the two halves just completed, then drops the older half:
 * decisions are made once per `windowMs / 2`, never per read, so {@link HotKeyDetector.record}
 * stays a map lookup and a few pointer moves.
 *
 * A key turns hot on its lower bound (`count - error`), so a key whose true rate and share are
 * both below the threshold is never declared hot. A key far above the rate threshold turns hot
 * sooner, between boundaries (`early`): when its reads since it took its counter reach
 * `early.factor` times the threshold rate, over at least `early.minReads` reads. It turns cold only when its upper bound
 * (`count`) falls below `threshold * cooldownRatio` on every criterion: the gap between the two
 * bars keeps a key that hovers around the threshold from flapping. While a key stays hot its
 * upper bound is at least `threshold × cooldownRatio`; its true count may be lower by the
 * summaries' error, which is at most `1 / capacity` of the window's reads.
 *
 * Memory: `2 × capacity` counters (one summary per half, each with its key map) plus one
 * {@link HotKeyInfo} per hot key; nothing grows with the number of distinct keys read.
 */

import { SpaceSaving } from './space-saving.js'

/**
 * Per-entity thresholds: a key is hot when its estimated rate (reads/s in this instance) reaches
 * `rate`, or its share of the entity's reads reaches `share` (a fraction in (0, 1]; `null` turns
 * the share criterion off). `rate: Infinity` turns the rate criterion off.
 */
export interface HotKeyThreshold {
  rate: number
  share: number | null
}

/** Options of a {@link HotKeyDetector}, fully defaulted by the config schema before they get here. */
export interface HotKeyDetectorOptions {
  /** Counters kept per half window: the memory bound, and the resolution (keys below `1 / capacity` of the reads are not tracked reliably). Default 256. */
  capacity: number
  /** Length of the sliding window in milliseconds; decisions are made every `windowMs / 2`. Default 2000. */
  windowMs: number
  /** When a key turns hot. */
  threshold: HotKeyThreshold
  /** Hysteresis: a hot key turns cold only when its upper-bound estimate falls below `threshold × cooldownRatio`, on rate and (if set) share. In (0, 1]; default 0.5. */
  cooldownRatio: number
  /** Reads a key needs in the window (lower bound) to turn hot, so a share threshold does not fire on a handful of reads. Default 20. */
  minReads: number
  /**
   * Early detection, between boundaries: a key whose rate since it took its counter (its reads
   * in the current half, a lower bound, over the time since its first one) reaches
   * `factor × threshold.rate`, over at least `minReads` reads, turns hot at once. The factor keeps
   * a key under the threshold from getting there by chance over a short span; such a key stays hot
   * for at least one window. `null` turns it off (decisions at boundaries only).
   */
  early: { factor: number; minReads: number } | null
}

/**
 * A hot key as last evaluated. `rate` (reads/s) and `share` (fraction of the entity's reads in the
 * window) are lower bounds, i.e. the key was read at least this much; `since` is the time (same
 * clock as `now` in {@link HotKeyDetector.record}, ms) at which it turned hot: a boundary, or the
 * read that turned it hot early.
 */
export interface HotKeyInfo {
  id: string
  rate: number
  share: number
  since: number
}

/**
 * Called once per change, synchronously inside the `record` that crossed the boundary, after the
 * detector's state is updated (so `isHot` already answers the new state). It runs on the read
 * path: it must be quick and must not throw.
 */
export type HotKeyTransition = (id: string, hot: boolean, info: HotKeyInfo) => void

/** Tracks the reads of one entity's keys and reports keys turning hot or cold. See the module doc above. */
export class HotKeyDetector {
  private readonly halfMs: number
  private readonly windowSeconds: number
  private readonly threshold: HotKeyThreshold
  private readonly coolRate: number
  private readonly coolShare: number | null
  private readonly minReads: number
  private readonly windowMs: number
  // Early detection: the rate (reads/ms) and the reads it needs; Infinity when it is off.
  private readonly earlyRatePerMs: number
  private readonly earlyMinReads: number
  private readonly onTransition: HotKeyTransition
  private previous: SpaceSaving
  private current: SpaceSaving
  // End of the current half (exclusive); -Infinity until the first read places the halves.
  private halfEnd = Number.NEGATIVE_INFINITY
  private readonly hot = new Map<string, HotKeyInfo>()
  // Keys turned hot early, with the time before which they do not cool down (a window after it:
  // until then the window also holds reads from before the key turned hot, and under-counts it).
  private readonly holdUntil = new Map<string, number>()

  /** `onTransition` is called for each key turning hot or cold. */
  constructor(options: HotKeyDetectorOptions, onTransition: HotKeyTransition) {
    this.halfMs = options.windowMs / 2
    this.windowSeconds = options.windowMs / 1000
    this.threshold = options.threshold
    this.coolRate = options.threshold.rate * options.cooldownRatio
    this.coolShare = options.threshold.share === null ? null : options.threshold.share * options.cooldownRatio
    this.minReads = options.minReads
    this.windowMs = options.windowMs
    this.earlyRatePerMs = options.early === null ? Number.POSITIVE_INFINITY : (options.early.factor * options.threshold.rate) / 1000
    this.earlyMinReads = options.early === null ? Number.POSITIVE_INFINITY : Math.max(options.early.minReads, options.minReads, 2)
    this.onTransition = onTransition
    this.previous = new SpaceSaving(options.capacity)
    this.current = new SpaceSaving(options.capacity)
  }

  /**
   * Counts one read of `id` at `now` (ms, any monotonic clock). O(1); allocation-free for a key
   * already counted in this half. A key with `early.minReads` reads in this half also gets its
   * early check (two map lookups).
   */
  record(id: string, now: number): void {
    if (now >= this.halfEnd) this.advance(now)
    const reads = this.current.add(id, now)
    if (reads >= this.earlyMinReads && !this.hot.has(id)) this.checkEarly(id, reads, now)
  }

  /** Whether `id` was hot at the last evaluated boundary. O(1). */
  isHot(id: string): boolean {
    return this.hot.has(id)
  }

  /** The hot keys as of the last evaluated boundary, hottest first. Copies: O(hot keys). */
  hotKeys(): HotKeyInfo[] {
    const out: HotKeyInfo[] = []
    for (const info of this.hot.values()) out.push({ ...info })
    return out.sort((a, b) => b.rate - a.rate || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  }

  // Turns `id` hot now when its rate since it took its counter reaches the early bar. `reads - 1`
  // reads arrived in the time since the first one: a lower bound on its rate over that span.
  private checkEarly(id: string, reads: number, now: number): void {
    const since = this.current.since(id) as number
    const elapsed = now - since
    if (elapsed <= 0 || (reads - 1) / elapsed < this.earlyRatePerMs) return
    const total = this.previous.total + this.current.total
    const info: HotKeyInfo = { id, rate: ((reads - 1) * 1000) / elapsed, share: total > 0 ? reads / total : 0, since: now }
    this.hot.set(id, info)
    this.holdUntil.set(id, now + this.windowMs)
    this.onTransition(id, true, { ...info })
  }

  // Crosses every boundary up to `now`. Halves with no reads still count: each one shifts the
  // window, so a key's estimate halves after one quiet half and is 0 after two.
  private advance(now: number): void {
    if (this.halfEnd === Number.NEGATIVE_INFINITY) {
      // Halves are aligned to multiples of halfMs so instances sharing a clock decide together.
      this.halfEnd = (Math.floor(now / this.halfMs) + 1) * this.halfMs
      return
    }
    while (now >= this.halfEnd) {
      const empty = this.previous.total === 0 && this.current.total === 0
      if (!empty || this.hot.size > 0) this.evaluate(this.halfEnd)
      if (empty) {
        // Nothing left to decay: jump to the half that holds `now` instead of looping over a long idle gap.
        this.halfEnd += (Math.floor((now - this.halfEnd) / this.halfMs) + 1) * this.halfMs
        return
      }
      const older = this.previous
      this.previous = this.current
      this.current = older
      older.reset()
      this.halfEnd += this.halfMs
    }
  }

  // Decides over previous + current at boundary time `at`; state first, then the callbacks, so a
  // callback sees a consistent detector.
  private evaluate(at: number): void {
    const { previous, current, windowSeconds, hot } = this
    const total = previous.total + current.total
    let changes: Array<{ info: HotKeyInfo; hot: boolean }> | null = null

    for (const [id, info] of hot) {
      // A key that fell out of a summary is taken as 0 there: it had at most that summary's
      // minimum count, under 1 / capacity of the reads, so it is no longer a top key anyway.
      const p = previous.estimate(id)
      const c = current.estimate(id)
      const upper = (p?.count ?? 0) + (c?.count ?? 0)
      const lower = upper - (p?.error ?? 0) - (c?.error ?? 0)
      info.rate = lower / windowSeconds
      info.share = total > 0 ? lower / total : 0
      const upperShare = total > 0 ? upper / total : 0
      const held = this.holdUntil.get(id)
      if (held !== undefined) {
        if (held > at) continue
        this.holdUntil.delete(id)
      }
      if (upper / windowSeconds < this.coolRate && (this.coolShare === null || upperShare < this.coolShare)) {
        hot.delete(id)
        changes ??= []
        changes.push({ info, hot: false })
      }
    }

    const consider = (id: string, lower: number): void => {
      if (lower < this.minReads) return
      const rate = lower / windowSeconds
      const share = lower / total
      const { threshold } = this
      if (rate >= threshold.rate || (threshold.share !== null && share >= threshold.share)) {
        const info: HotKeyInfo = { id, rate, share, since: at }
        hot.set(id, info)
        changes ??= []
        changes.push({ info, hot: true })
      }
    }
    current.forEach((id, count, error) => {
      if (hot.has(id)) return
      const p = previous.estimate(id)
      consider(id, count - error + (p === undefined ? 0 : p.count - p.error))
    })
    previous.forEach((id, count, error) => {
      if (hot.has(id) || current.estimate(id) !== undefined) return
      consider(id, count - error)
    })

    if (changes === null) return
    for (const change of changes) this.onTransition(change.info.id, change.hot, { ...change.info })
  }
}
