import { randomUUID } from 'node:crypto'
import type { RemoteStore } from '@tiercache/core'
import { keySlot } from './key-slot.js'

/** What `get` answers for a key holding another Redis type; never a valid envelope. */
export const WRONG_TYPE = 'tc-wrong-type'
/** What an invalidated replica holds until its tombstone expires; never a valid envelope. */
export const TOMBSTONE = 'tc1-tombstone'
/** The startup probe's key lives at most this long (ms) if the probe stops half-way. */
const PROBE_TTL_MS = 5_000
const PROBE_VALUE = 'tc-ready-probe'

// Enough candidates to find a slot on each of dozens of masters: with M masters the chance
// that 1024 random slots miss one of them is M * (1 - 1/M)^1024, negligible below ~150 masters.
const MAX_SPREAD_CANDIDATES = 1024

/**
 * Another application's hash or list under our key is foreign data, not a failing Redis:
 * reported as an error it would count against the circuit breaker and never be removed.
 * Use as the `catch` of a `GET`: answers {@link WRONG_TYPE} for `WRONGTYPE`, rethrows the rest.
 */
export function foreignType(error: unknown): string {
  if (error instanceof Error && error.message.startsWith('WRONGTYPE')) return WRONG_TYPE
  throw error
}

/** A stamp is a non-negative integer of ms; anything else (missing, garbage) counts as never. */
export function parseStamp(raw: string | null): number {
  if (raw === null) return 0
  const stamp = Number(raw)
  return Number.isSafeInteger(stamp) && stamp >= 0 ? stamp : 0
}

/**
 * `RemoteStore.spreadKeys` over a slot map: `masterOfSlot` names the master serving a slot
 * (`undefined` while the map is unknown, which yields `[]`). Candidates are tried in order, so
 * every instance with the same slot map picks the same keys.
 */
export function spreadOverMasters(
  makeKey: (n: number) => string,
  count: number,
  masterOfSlot: (slot: number) => string | undefined,
): string[] {
  const masters = new Set<string>()
  const keys: string[] = []
  for (let n = 0; n < MAX_SPREAD_CANDIDATES && keys.length < count; n++) {
    const key = makeKey(n)
    const master = masterOfSlot(keySlot(key))
    if (master === undefined) return []
    if (masters.has(master)) continue
    masters.add(master)
    keys.push(key)
  }
  return keys
}

/**
 * The keyed part of a store's startup check: runs every keyed command the store sends on `key`
 * (SET PX, the five Lua scripts, GET, MGET, UNLINK), then deletes it. Only errors matter, not
 * replies: a missing ACL right surfaces here rather than on the first cache miss. `SET` goes
 * first: a user without it is then told so by name, where a script would fail with its own words.
 */
export async function probeKeyedCommands(store: RemoteStore, key: string): Promise<void> {
  const token = randomUUID()
  await store.set(key, PROBE_VALUE, PROBE_TTL_MS)
  await store.delete([key])
  await store.acquireLock(key, token, PROBE_TTL_MS)
  await store.setIfLeaseHeld(key, key, token, PROBE_VALUE, PROBE_TTL_MS)
  await store.get(key)
  await store.getMany([key])
  await store.setReplica(key, PROBE_VALUE, PROBE_TTL_MS)
  await store.stampTags([key], 0, PROBE_TTL_MS)
  await store.releaseLock(key, token)
  await store.tombstone([key], PROBE_TTL_MS)
  await store.delete([key])
}

/** Subscribes to `channel` the way the bus does, then leaves it (nothing is published). */
export async function probeChannel(store: RemoteStore, channel: string): Promise<void> {
  const subscription = await store.subscribe(channel, { onMessage: () => {} })
  await subscription.unsubscribe()
}
