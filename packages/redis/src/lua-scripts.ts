import type { Cluster, Redis } from 'ioredis'

/**
 * Writes the value only while the lease (the lock's token) still stands, then frees the lock
 * in the same atomic step. An invalidation deletes value and lock together, so a load that
 * raced a write finds its token gone and cannot put the old value back.
 *
 * KEYS: value key, lock key. ARGV: token, value, ttl in ms. Returns 1 when written, else 0.
 */
const SET_IF_LEASE_HELD = `
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  redis.call('DEL', KEYS[2])
  return 1
end
return 0
`

/**
 * Compare-and-delete: frees the lock only if it still carries our token, so a holder whose
 * lock expired and was taken by another process cannot free the other's lock.
 *
 * KEYS: lock key. ARGV: token. Returns 1 when deleted, else 0.
 */
const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`

/**
 * Raises a tag stamp, never lowers it, and never shortens its life: a stamp must outlive every
 * entry that could carry the tag, and two writers with different TTLs must not let the shorter
 * one win. A missing or non-numeric stamp counts as absent and is overwritten.
 *
 * KEYS: tag key. ARGV: stamp in ms since the epoch, ttl in ms. Returns 1 when raised, else 0.
 */
const STAMP_TAG = `
local stamp = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local current = tonumber(redis.call('GET', KEYS[1]))
local pttl = redis.call('PTTL', KEYS[1])
if pttl == -1 then
  if current == nil or current < stamp then
    redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL')
    return 1
  end
  return 0
end
if pttl > ttl then ttl = pttl end
if current == nil or current < stamp then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
  return 1
end
if pttl < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 0
`

/**
 * Writes a hot key's replica unless an invalidation left a tombstone there: a replica write
 * that was already on its way when the key was invalidated must not land after it.
 *
 * KEYS: replica key. ARGV: tombstone marker, value, ttl in ms. Returns 1 when written, else 0.
 */
const SET_REPLICA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`

/**
 * The scripts as ioredis custom commands. Names carry a `tiercache` prefix because they are
 * defined on the client itself, which may be the user's own.
 */
export const SCRIPTS = {
  tiercacheSetIfLeaseHeld: { lua: SET_IF_LEASE_HELD, numberOfKeys: 2 },
  tiercacheReleaseLock: { lua: RELEASE_LOCK, numberOfKeys: 1 },
  tiercacheStampTag: { lua: STAMP_TAG, numberOfKeys: 1 },
  tiercacheSetReplica: { lua: SET_REPLICA, numberOfKeys: 1 },
} as const

/** The commands {@link defineScripts} adds to a client. */
export interface ScriptCommands {
  tiercacheSetIfLeaseHeld(key: string, lockKey: string, token: string, value: string, ttlMs: number): Promise<number>
  tiercacheReleaseLock(lockKey: string, token: string): Promise<number>
  tiercacheStampTag(tagKey: string, stampMs: number, ttlMs: number): Promise<number>
  tiercacheSetReplica(key: string, tombstone: string, value: string, ttlMs: number): Promise<number>
}

/**
 * Defines the store's Lua scripts on a client. ioredis sends them with `EVALSHA` and falls
 * back to `EVAL` on `NOSCRIPT` (a restarted or failed-over node has an empty script cache), and
 * routes each by its first key, like any other keyed command.
 */
export function defineScripts(client: Redis | Cluster): ScriptCommands {
  for (const [name, definition] of Object.entries(SCRIPTS)) {
    client.defineCommand(name, definition)
  }
  return client as unknown as ScriptCommands
}
