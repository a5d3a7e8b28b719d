import type { RoutedCommands } from './routed-commands.js'

// The fleet-wide lock of a load is also its lease: the token the lock holds is what lets the
// holder write its value (`setIfLeaseHeld`), and an invalidation deletes it with the value.

/** Takes `lockKey` for `token` (the `acquireLock` script): true when the token holds it, also when an earlier delivery of this attempt took it. */
export async function acquireLock(commands: RoutedCommands, lockKey: string, token: string, ttlMs: number): Promise<boolean> {
  return Number(await commands.script('tiercacheAcquireLock', [lockKey, token, ttlMs])) === 1
}

/** Writes `value` only while `lockKey` still holds `token` (one Lua script, atomic on the key's slot). */
export async function setIfLeaseHeld(
  commands: RoutedCommands,
  key: string,
  lockKey: string,
  token: string,
  value: string,
  ttlMs: number,
): Promise<boolean> {
  // Number(): a client with `stringNumbers` answers "1".
  return Number(await commands.script('tiercacheSetIfLeaseHeld', [key, lockKey, token, value, ttlMs])) === 1
}

/** Deletes `lockKey` only while it holds `token`: a lock that expired and was taken again stays with its new holder. */
export async function releaseLock(commands: RoutedCommands, lockKey: string, token: string): Promise<void> {
  await commands.script('tiercacheReleaseLock', [lockKey, token])
}
