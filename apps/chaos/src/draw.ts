/**
 * An integer in `[min, max]` drawn from `random` (a seeded source such as the testkit's `seeded`),
 * so the same seed gives the same schedule, keys and writes, and a failing chaos run replays.
 */
export function between(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1))
}
