import { type KeyWrite, type MasterDeleteReplies, TOMBSTONE } from '@tiercache/redis-common'

/** One node-redis connection to a master, as a durable write uses it. */
export interface MasterConnection {
  /** A command on that connection (never sent to a replica). */
  send(args: string[]): Promise<unknown>
}

/**
 * `write` on `keys` (`UNLINK keys`, or a tombstone `SET` per key) and, with `waitMs`,
 * `WAIT 1 <waitMs>` on the same connection. All are issued in the same tick, so node-redis
 * writes them together, in order, one round trip: the `WAIT` then covers the write (it counts
 * only the writes of its own connection). The first failed write is the write's error.
 */
export async function writeThenWait(
  connection: MasterConnection,
  write: KeyWrite,
  keys: string[],
  waitMs: number | undefined,
): Promise<MasterDeleteReplies> {
  const commands = write.kind === 'unlink' ? [['UNLINK', ...keys]] : keys.map((key) => ['SET', key, TOMBSTONE, 'PX', String(write.ttlMs)])
  // The writes are sent first, the WAIT behind them.
  const writes = commands.map((args) => connection.send(args))
  const wait = waitMs === undefined ? Promise.resolve(undefined) : connection.send(['WAIT', '1', String(waitMs)])
  const [waited, ...written] = await Promise.allSettled([wait, ...writes])
  const failed = written.find((outcome) => outcome.status === 'rejected')
  return {
    deleteError: failed === undefined ? null : asError(failed.reason),
    acknowledged: waited.status === 'rejected' ? asError(waited.reason) : waited.value === undefined ? undefined : Number(waited.value),
  }
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason))
}
