import { LUA_SCRIPTS } from '@tiercache/redis-common'
import type { Cluster, Redis } from 'ioredis'

/**
 * The scripts as ioredis custom commands. Names carry a `tiercache` prefix because they are
 * defined on the client itself, which may be the user's own.
 */
export const SCRIPTS = {
  tiercacheAcquireLock: LUA_SCRIPTS.acquireLock,
  tiercacheSetIfLeaseHeld: LUA_SCRIPTS.setIfLeaseHeld,
  tiercacheReleaseLock: LUA_SCRIPTS.releaseLock,
  tiercacheStampTag: LUA_SCRIPTS.stampTag,
  tiercacheSetReplica: LUA_SCRIPTS.setReplica,
} as const

/** The commands {@link defineScripts} adds to a client. */
export interface ScriptCommands {
  tiercacheAcquireLock(lockKey: string, token: string, ttlMs: number): Promise<number>
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
