/**
 * The store's Lua scripts, as text: every store runs the same ones, whatever its client library,
 * so a fleet mixing `@tiercache/redis` and `@tiercache/node-redis` instances agrees on leases,
 * tombstones and tag stamps. Each script's keys share one slot (the core builds them so).
 */

/**
 * Takes the lock for a token unless another token holds it. A lock attempt can reach Redis twice:
 * a client resends a command whose connection closed before its reply came (ioredis's cluster
 * client does), and the first delivery may have taken the lock. A plain `SET NX` would then answer
 * "held by someone" for the caller's own lock, which nobody releases: every reader of the key,
 * the caller included, waits until it expires. So a lock that carries the caller's token counts
 * as taken.
 *
 * KEYS: lock key. ARGV: token, ttl in ms. Returns 1 when the token holds the lock, else 0.
 */
export const ACQUIRE_LOCK = `
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  return 1
end
if holder then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`

/**
 * Writes the value only while the lease (the lock's token) still stands, then frees the lock
 * in the same atomic step. An invalidation deletes value and lock together, so a load that
 * raced a write finds its token gone and cannot put the old value back.
 *
 * KEYS: value key, lock key. ARGV: token, value, ttl in ms. Returns 1 when written, else 0.
 */
export const SET_IF_LEASE_HELD = `
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
export const RELEASE_LOCK = `
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
export const STAMP_TAG = `
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
export const SET_REPLICA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`

/** Every script with its number of keys, under the name stores give it. */
export const LUA_SCRIPTS = {
  acquireLock: { lua: ACQUIRE_LOCK, numberOfKeys: 1 },
  setIfLeaseHeld: { lua: SET_IF_LEASE_HELD, numberOfKeys: 2 },
  releaseLock: { lua: RELEASE_LOCK, numberOfKeys: 1 },
  stampTag: { lua: STAMP_TAG, numberOfKeys: 1 },
  setReplica: { lua: SET_REPLICA, numberOfKeys: 1 },
} as const

/** The name of one of {@link LUA_SCRIPTS}. */
export type LuaScriptName = keyof typeof LUA_SCRIPTS
