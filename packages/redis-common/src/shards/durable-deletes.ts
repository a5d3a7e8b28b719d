import { PRIMARY_SHARD } from './slot-map.js'

/** A key a durable delete removed on its master without a replica confirming it, and where. */
export interface UnconfirmedDelete {
  key: string
  shard: string
}

/**
 * What a durable write puts on a master: `unlink` deletes the keys (an invalidation's value and
 * lease); `tombstone` replaces each key with a tombstone living `ttlMs` (an invalidation's hot-key
 * copies: a tombstone, unlike a deletion, keeps a late copy write out). Both are confirmed the same
 * way, by `WAIT 1 <timeout>` behind them on the same connection.
 */
export type KeyWrite = { readonly kind: 'unlink' } | { readonly kind: 'tombstone'; readonly ttlMs: number }

/** The write of a durable delete. */
export const UNLINK: KeyWrite = Object.freeze({ kind: 'unlink' })

/**
 * What a master answered to `UNLINK k1 k2 ...` (or the tombstones of a {@link KeyWrite}) and, when one was sent on the same connection
 * right behind it, `WAIT 1 <timeout>`: the delete's error (`null` when it succeeded), and the
 * number of replicas that acknowledged or the wait's error (`undefined` when no wait was sent).
 */
export interface MasterDeleteReplies {
  deleteError: Error | null
  acknowledged: number | Error | undefined
}

/**
 * Sends `UNLINK keys` (or the tombstones of a {@link KeyWrite}: each store binds the write it was
 * asked for) to one master and, when `waitMs` is given, `WAIT 1 <waitMs>` on the same connection
 * behind it (a `WAIT` covers only the writes of its own connection). Each client library has its
 * own way to pin both to one connection.
 */
export type SendMasterDelete = (keys: string[], waitMs: number | undefined) => Promise<MasterDeleteReplies>

/**
 * After a `WAIT` that timed out on a shard, further durable deletes there skip the wait for this
 * long (ms) and report unconfirmed at once: `WAIT` blocks the connection every command to that
 * master shares, so a replica that stopped acknowledging must not cost every read the timeout.
 */
export const SUSPECT_MS = 1_000

/** Error replies that mean the slot is moving or the slot map is stale: the keys are elsewhere, or in two places. */
const REDIRECTION = /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN)\b/

/**
 * The rules of a durable delete, shared by the ioredis and the node-redis store; the stores only
 * say how to reach a master. A delete is confirmed when a replica acknowledged it within
 * `ackTimeoutMs` (`WAIT 1 <ackTimeoutMs>`), or when the shard has no replica to wait for (nothing
 * a failover could promote), or when durability is off (`ackTimeoutMs` 0: nothing is claimed).
 * `now`: the clock of the suspicion window (ms), injectable for tests.
 */
export class DurableDeletes {
  private readonly suspectUntil = new Map<string, number>()

  constructor(
    private readonly ackTimeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether durable deletes wait at all (`replicaAckTimeoutMs` > 0). */
  get enabled(): boolean {
    return this.ackTimeoutMs > 0
  }

  /**
   * Whether a delete must be confirmed: asked for, durability on, and the shard has replicas.
   * `replicas` (the shard's replica count, which may need a read) is asked only when a wait could follow.
   */
  async mustConfirm(durable: boolean, replicas: () => number | Promise<number>): Promise<boolean> {
    return durable && this.enabled && (await replicas()) > 0
  }

  /**
   * Deletes `keys` (one slot, or one primary) on their master through `send`, waiting for a replica
   * when `wait`, unless a wait on `shard` timed out less than {@link SUSPECT_MS} ago (then the keys
   * are reported unconfirmed without waiting). Resolves `'redirected'` when the master answered
   * the delete with a cluster redirection (the keys are not, or not only, there); rejects with any
   * other error of the delete.
   */
  async onMaster(shard: string, keys: string[], wait: boolean, send: SendMasterDelete): Promise<UnconfirmedDelete[] | 'redirected'> {
    const suspect = wait && this.now() < (this.suspectUntil.get(shard) ?? 0)
    const { deleteError, acknowledged } = await send(keys, wait && !suspect ? this.ackTimeoutMs : undefined)
    if (deleteError !== null) {
      if (REDIRECTION.test(deleteError.message)) return 'redirected'
      throw deleteError
    }
    if (!wait) return []
    if (!suspect && typeof acknowledged === 'number' && acknowledged >= 1) {
      this.suspectUntil.delete(shard)
      return []
    }
    if (!suspect) this.suspectUntil.set(shard, this.now() + SUSPECT_MS)
    return unconfirmed(keys, shard)
  }

  /**
   * Deletes `keys` on the one primary of a standalone or Sentinel deployment through `send`,
   * waiting for a replica when `durable` and the primary has one; `replicas` (the primary's replica
   * count) is asked only when a wait could follow.
   */
  async onPrimary(keys: string[], durable: boolean, replicas: () => Promise<number>, send: SendMasterDelete): Promise<UnconfirmedDelete[]> {
    const wait = await this.mustConfirm(durable, replicas)
    const outcome = await this.onMaster(PRIMARY_SHARD, keys, wait, send)
    if (outcome === 'redirected') throw new Error('a standalone Redis answered with a cluster redirection')
    return outcome
  }

  /**
   * Deletes `keys` of ONE cluster slot: on the slot's master through `send` when the store has a
   * usable connection to it (`send` undefined otherwise); when the master answered with a
   * redirection (the slot is migrating, or the map is stale), each key on its own through the
   * cluster's routing (`writeOne`, which must follow MOVED and ASK), last key first: the engine
   * lists a value before its lease, and the lease must be gone before the value so that a load
   * racing the deletion cannot write its value back between the two. Keys deleted that way are
   * reported unconfirmed when `wait` (the slot's move ends in a topology change, after which the
   * engine deletes them again). The same holds for tombstones, `writeOne` writing one.
   */
  async clusterSlot(
    shard: string,
    keys: string[],
    wait: boolean,
    send: SendMasterDelete | undefined,
    writeOne: (key: string) => Promise<unknown>,
  ): Promise<UnconfirmedDelete[]> {
    if (send !== undefined) {
      const outcome = await this.onMaster(shard, keys, wait, send)
      if (outcome !== 'redirected') return outcome
    }
    for (let i = keys.length - 1; i >= 0; i--) await writeOne(keys[i] as string)
    return wait ? unconfirmed(keys, shard) : []
  }
}

function unconfirmed(keys: readonly string[], shard: string): UnconfirmedDelete[] {
  return keys.map((key) => ({ key, shard }))
}
