import type { Logger } from '../util/logger.js'

/** How the outbox sends what it holds. */
export interface OutboxSenders {
  /**
   * Propagates the invalidation of `ids` of `entity` (L2 delete, replica tombstones, bus);
   * resolves with the ids that still need a retry: all of them when it failed, those whose
   * deletion no replica confirmed (durable invalidation), none when it is done.
   */
  ids(entity: string, ids: readonly string[]): Promise<readonly string[]>
  /** Propagates a tag invalidation (L2 stamps, bus); resolves true when L2 and the bus took all of it. */
  tags(tags: readonly string[], stamp: number): Promise<boolean>
}

/** Timing and bound of an {@link InvalidationOutbox}. */
export interface OutboxOptions {
  /** How often the outbox retries while it holds something (ms). Default 1,000. */
  readonly retryMs: number
  /** The most ids and tags it holds together; past it the oldest are dropped (and it is logged). Default 100,000. */
  readonly cap: number
}

/** The outbox's defaults. */
export const DEFAULT_OUTBOX_OPTIONS: OutboxOptions = Object.freeze({ retryMs: 1_000, cap: 100_000 })

/**
 * A step that could not reach L2 and is retried with the invalidations: resolves true once done
 * (or no longer needed), false to be tried again at the next retry.
 */
export type RetriedStep = () => Promise<boolean>

type Pending =
  | { kind: 'id'; entity: string; id: string }
  | { kind: 'tag'; tag: string; stamp: number }
  | { kind: 'step'; key: string; run: RetriedStep }

/**
 * Invalidations (ids and tags) that could not reach L2 or the bus, or whose deletion no replica
 * confirmed yet, kept and retried until they are done: on a timer while it holds anything, at
 * once when a shard's breaker closes, and at once after a topology change (a promoted replica
 * may still hold what its old master deleted). Lock releases that failed ride along
 * ({@link addStep}). One queue, one retry policy, one bound for every kind: past `cap` entries
 * the oldest are dropped (their L2 copies then live until their TTL). A tag keeps the newest
 * stamp it was invalidated with.
 */
export class InvalidationOutbox {
  // Insertion order is age: the first entries are the oldest.
  private readonly pending = new Map<string, Pending>()
  private timer: NodeJS.Timeout | null = null
  private stopped = false
  /** The retry sending now, if any. */
  private inFlight: Promise<void> | null = null
  /** The one retry asked for while another was in flight; runs when that one is done. */
  private queued: Promise<void> | null = null

  constructor(
    private readonly send: OutboxSenders,
    private readonly log: Logger,
    private readonly options: OutboxOptions = DEFAULT_OUTBOX_OPTIONS,
  ) {}

  /** The ids and tags waiting. */
  get size(): number {
    return this.pending.size
  }

  /** Keeps the invalidation of `ids` of `entity` for a retry. */
  addIds(entity: string, ids: readonly string[]): void {
    // Entity names cannot hold ':' (NAME_PATTERN), so the key is unique.
    for (const id of ids) this.put(`i:${entity}:${id}`, { kind: 'id', entity, id })
    this.bound()
  }

  /** Keeps a tag invalidation for a retry. */
  addTags(tags: readonly string[], stamp: number): void {
    for (const tag of tags) {
      const key = `t:${tag}`
      const known = this.pending.get(key)
      this.put(key, { kind: 'tag', tag, stamp: known?.kind === 'tag' ? Math.max(known.stamp, stamp) : stamp })
    }
    this.bound()
  }

  /** Keeps `step` (named `key`: a step added again under the same key replaces it) for a retry. */
  addStep(key: string, run: RetriedStep): void {
    this.put(`s:${key}`, { kind: 'step', key, run })
    this.bound()
  }

  /**
   * Sends everything waiting once; what fails again is kept. Called while a retry is in flight
   * (a topology change, a breaker closing), it runs once more as soon as that one is done: the
   * sends in flight may have gone to the shard's old master, and what they keep must reach the
   * new one now, not a timer tick later. Resolves when the retry it asked for is done.
   */
  retry(): Promise<void> {
    if (this.inFlight === null) {
      const run = this.sendPending().finally(() => {
        this.inFlight = null
      })
      this.inFlight = run
      return run
    }
    this.queued ??= this.inFlight.then(() => {
      this.queued = null
      return this.retry()
    })
    return this.queued
  }

  private async sendPending(): Promise<void> {
    if (this.pending.size === 0) return
    const entries = [...this.pending.values()]
    this.pending.clear()
    const idsByEntity = new Map<string, string[]>()
    const tags: { tag: string; stamp: number }[] = []
    const steps: { key: string; run: RetriedStep }[] = []
    for (const entry of entries) {
      if (entry.kind === 'tag') tags.push(entry)
      else if (entry.kind === 'step') steps.push(entry)
      else {
        const list = idsByEntity.get(entry.entity)
        if (list === undefined) idsByEntity.set(entry.entity, [entry.id])
        else list.push(entry.id)
      }
    }
    await Promise.all([
      ...[...idsByEntity].map(async ([entity, ids]) => {
        const left = await this.send.ids(entity, ids)
        if (left.length < ids.length) this.log.info({ entity, ids: ids.length - left.length }, 'invalidations kept for a retry reached L2')
        if (left.length > 0) this.addIds(entity, left)
      }),
      ...steps.map(async ({ key, run }) => {
        if (!(await run().catch(() => false))) this.addStep(key, run)
      }),
      ...tags.map(async ({ tag, stamp }) => {
        if (!(await this.send.tags([tag], stamp))) this.addTags([tag], stamp)
      }),
    ])
    if (this.pending.size === 0 && this.timer !== null) {
      clearInterval(this.timer)
      this.timer = null
    }
  }

  /** Stops the timer for good (the cache is closing); what is waiting is dropped with the cache. */
  stop(): void {
    this.stopped = true
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
  }

  private put(key: string, entry: Pending): void {
    // Re-inserting moves the entry to the young end: it was invalidated again just now.
    this.pending.delete(key)
    this.pending.set(key, entry)
  }

  private bound(): void {
    if (this.pending.size > this.options.cap) {
      let excess = this.pending.size - this.options.cap
      for (const key of this.pending.keys()) {
        if (excess-- <= 0) break
        this.pending.delete(key)
      }
      this.log.error({ cap: this.options.cap }, 'too many invalidations waiting for L2; the oldest were dropped')
    }
    if (this.timer === null && !this.stopped && this.pending.size > 0) {
      this.timer = setInterval(() => void this.retry(), this.options.retryMs)
      this.timer.unref()
    }
  }
}
