import { TOMBSTONE } from '@tiercache/redis-common'
import type { ReadRouting } from '../read-routing.js'
import type { ClusterShards } from '../shards/cluster-shards.js'
import type { RoutedCommands } from './routed-commands.js'

// Copies of a hot key under suffixed keys whose slots fall on other masters, so one key's reads
// spread over the shards. An invalidation leaves a tombstone in each copy's place, which a late
// copy write (`setReplica`) cannot overwrite.

/**
 * `count` copy keys spread over the masters (`shards`); on one shard (`shards` undefined) none,
 * unless hot-key reads go to its replica nodes, where one copy spreads them.
 */
export function spreadKeys(shards: ClusterShards | undefined, reads: ReadRouting, makeKey: (n: number) => string, count: number): string[] {
  if (shards === undefined) return reads.hotCopiesOnOneShard && count > 0 ? [makeKey(0)] : []
  return shards.spreadKeys(makeKey, count)
}

/** Writes a copy unless a tombstone holds its place; true when written. */
export async function setReplica(commands: RoutedCommands, key: string, value: string, ttlMs: number): Promise<boolean> {
  return Number(await commands.script('tiercacheSetReplica', [key, TOMBSTONE, value, ttlMs])) === 1
}

/** Puts a tombstone, living `ttlMs`, in the place of each copy. */
export async function tombstone(commands: RoutedCommands, keys: readonly string[], ttlMs: number): Promise<void> {
  await Promise.all(keys.map((key) => commands.set(key, TOMBSTONE, ttlMs)))
}
