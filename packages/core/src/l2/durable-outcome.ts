import type { DeleteOutcome } from './remote-store.js'

/** Runs an L2 call whose failure is recorded, never thrown; true when it succeeded. */
export type Attempt = (operation: string, call: () => Promise<unknown>) => Promise<boolean>

/**
 * Runs a durable L2 write (`deleteDurably`, `tombstoneDurably`) through `attempt`: what it could
 * not confirm, or `null` when the write itself failed (recorded by `attempt`).
 */
export async function attemptDurable(
  attempt: Attempt,
  operation: string,
  call: () => Promise<DeleteOutcome>,
): Promise<DeleteOutcome | null> {
  let outcome: DeleteOutcome | null = null
  const done = await attempt(operation, async () => {
    outcome = await call()
  })
  return done ? outcome : null
}

/**
 * The ids whose keys `outcome` reports unconfirmed, each once, in `owners`' order: `owners[i]` is
 * the id `keys[i]` belongs to.
 */
export function unconfirmedOwners(outcome: DeleteOutcome, keys: readonly string[], owners: readonly string[]): string[] {
  const unconfirmed = new Set(outcome.unconfirmed.map(({ key }) => key))
  return [...new Set(owners.filter((_, i) => unconfirmed.has(keys[i] as string)))]
}
