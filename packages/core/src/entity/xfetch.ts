/**
 * Early refresh by XFetch (Vattani, Chierichetti, Lowenstein: "Optimal Probabilistic Cache
 * Stampede Prevention", VLDB 2015). A read at time `now` of an entry fresh until `freshUntil`
 * whose load took `loadMs` refreshes it early when
 *
 *     now - loadMs * beta * ln(u) >= freshUntil,   u uniform in (0, 1]
 *
 * i.e. with probability exp(-(freshUntil - now) / (loadMs * beta)): almost never long before
 * expiry, more and more often as it nears, sooner for values that are slow to load.
 */
export function shouldRefreshEarly(now: number, freshUntil: number, loadMs: number, beta: number, random: () => number): boolean {
  if (beta <= 0 || loadMs <= 0 || now >= freshUntil) return false
  const u = 1 - random() // (0, 1]: ln(0) would be -Infinity
  return now - loadMs * beta * Math.log(u) >= freshUntil
}

// Reads earlier than this many `loadMs * beta` before expiry are not considered at all: the
// probability there is below exp(-20) ≈ 2e-9, and skipping the draw keeps the L1 hit path to
// one comparison.
const HORIZON = 20

/** The earliest time at which {@link shouldRefreshEarly} is worth asking; `Infinity` when never. */
export function earlyRefreshFrom(freshUntil: number, loadMs: number, beta: number): number {
  if (beta <= 0 || loadMs <= 0) return Number.POSITIVE_INFINITY
  return freshUntil - HORIZON * loadMs * beta
}
