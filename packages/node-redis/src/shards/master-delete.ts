import type { MasterDeleteReplies } from '@tiercache/redis-common'

/** The two commands a durable delete sends to one master, on one node-redis connection. */
export interface DeleteConnection {
  unlink(keys: string[]): Promise<number>
  /** A command on that same connection (`WAIT`). */
  send(args: string[]): Promise<unknown>
}

/**
 * `UNLINK keys` and, with `waitMs`, `WAIT 1 <waitMs>` on the same connection. Both are issued in
 * the same tick, so node-redis writes them together, in order, one round trip: the `WAIT` then
 * covers the `UNLINK` (it counts only the writes of its own connection).
 */
export async function unlinkThenWait(
  connection: DeleteConnection,
  keys: string[],
  waitMs: number | undefined,
): Promise<MasterDeleteReplies> {
  const [deleted, waited] = await Promise.allSettled([
    connection.unlink(keys),
    waitMs === undefined ? Promise.resolve(undefined) : connection.send(['WAIT', '1', String(waitMs)]),
  ])
  return {
    deleteError: deleted.status === 'rejected' ? asError(deleted.reason) : null,
    acknowledged: waited.status === 'rejected' ? asError(waited.reason) : waited.value === undefined ? undefined : Number(waited.value),
  }
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason))
}
