import { randomUUID } from 'node:crypto'
import type { RemoteStore } from '@tiercache/core'

// The probe key lives at most this long (ms) should a probe stop half-way.
const PROBE_TTL_MS = 5_000
const PROBE_VALUE = 'tc-ready-probe'

/**
 * Runs every keyed command a store sends on `key` (SET NX PX, the four Lua scripts, SET PX, GET,
 * MGET, UNLINK), then deletes it: the startup check's proof that the ACL grants them all. Only
 * errors matter, not replies.
 */
export async function probeKeyedCommands(store: RemoteStore, key: string): Promise<void> {
  const token = randomUUID()
  await store.acquireLock(key, token, PROBE_TTL_MS)
  await store.setIfLeaseHeld(key, key, token, PROBE_VALUE, PROBE_TTL_MS)
  await store.set(key, PROBE_VALUE, PROBE_TTL_MS)
  await store.get(key)
  await store.getMany([key])
  await store.setReplica(key, PROBE_VALUE, PROBE_TTL_MS)
  await store.stampTags([key], 0, PROBE_TTL_MS)
  await store.releaseLock(key, token)
  await store.tombstone([key], PROBE_TTL_MS)
  await store.delete([key])
}

/** Subscribes to `channel` and leaves it again (nothing is published): the startup check's proof that the ACL allows the bus. */
export async function probeChannel(store: RemoteStore, channel: string): Promise<void> {
  const subscription = await store.subscribe(channel, { onMessage: () => {} })
  await subscription.unsubscribe()
}
