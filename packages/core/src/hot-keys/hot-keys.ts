import type { HotKeyPolicy } from '../config/entity-policy.js'
import type { KeyBuilder } from '../l2/key-builder.js'
import type { RemoteStore } from '../l2/remote-store.js'
import type { Clock, RandomSource } from '../util/clock.js'
import { HotKeyDetector, type HotKeyInfo, type HotKeyTransition } from './hot-key-detector.js'

// Replica keys depend on the slot map; they are recomputed this often so a failover or a
// resharding moves replicas to the new masters without any topology event.
const REPLICA_KEYS_REFRESH_MS = 1_000
// Reads of a key in the window below which it is never hot, whatever its share.
const MIN_READS = 20
// Early detection (between the detector's boundaries): a key turns hot as soon as its counted
// reads since it took its counter show twice the threshold rate, over at least 32 counted reads
// (about 512 reads at the default sampling). At 5x the threshold that takes about 100 ms of reads
// (more than 250 ms with probability 1e-9). A key below the threshold must show twice its rate by
// chance: at the 32nd counted read that happens with probability 3e-4 for a key at the threshold,
// 2e-6 at 0.75x and 3e-10 at 0.5x (Poisson; the figures in docs/hot-keys.md).
const EARLY = { factor: 2, minReads: 32 } as const

/**
 * The hot keys of one entity in this instance: which keys are hot (declared, or detected by
 * counting reads), and where their replicas live in L2.
 */
export class HotKeys {
  readonly detector: HotKeyDetector
  private readonly replicaKeyCache = new Map<string, { keys: string[]; at: number }>()
  /** A read is counted when the 32-bit random draw falls below this. */
  private readonly sampleBelow: number
  /** xorshift32 state: sampling needs a draw per read, and Math.random costs more than the rest of the counting. */
  private seed: number

  constructor(
    readonly policy: HotKeyPolicy,
    private readonly keys: KeyBuilder,
    private readonly l2: RemoteStore | null,
    private readonly clock: Clock,
    private readonly random: RandomSource,
    onTransition: HotKeyTransition,
  ) {
    const every = policy.sampleEvery
    this.sampleBelow = Math.floor(0x1_0000_0000 / every)
    this.seed = Math.floor(random() * 0xffff_ffff) | 1
    // The detector counts samples; thresholds and reported rates are scaled back to reads.
    this.detector = new HotKeyDetector(
      {
        capacity: policy.capacity,
        windowMs: policy.windowMs,
        threshold: { rate: policy.rate / every, share: policy.share },
        cooldownRatio: 0.5,
        minReads: Math.max(1, Math.ceil(MIN_READS / every)),
        early: EARLY,
      },
      (id, hot, info) => {
        if (!hot) this.replicaKeyCache.delete(id)
        onTransition(id, hot, { ...info, rate: info.rate * every })
      },
    )
  }

  /**
   * Counts a read of `id` at `now` (one read in `sampleEvery`, drawn at random: a uniform
   * workload over more keys than the detector keeps makes every counted read an eviction, and
   * sampling keeps that off most reads while heavy hitters stay heavy in the sample).
   */
  record(id: string, now: number): void {
    let x = this.seed
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    this.seed = x
    if (x >>> 0 < this.sampleBelow) this.detector.record(id, now)
  }

  /** True when `id` is declared hot or detected hot. */
  isHot(id: string): boolean {
    return this.detector.isHot(id) || this.policy.declared(id)
  }

  /** True when hot keys of this entity are replicated in L2. */
  get replicates(): boolean {
    return this.policy.replicas > 0 && this.l2 !== null
  }

  /**
   * The replica keys of `id` for the current slot map (one per master, up to `replicas`);
   * empty when replication is off or the store has a single shard.
   */
  replicaKeys(id: string): string[] {
    if (!this.replicates) return []
    const now = this.clock.now()
    const cached = this.replicaKeyCache.get(id)
    if (cached !== undefined && now - cached.at < REPLICA_KEYS_REFRESH_MS) return cached.keys
    const keys = (this.l2 as RemoteStore).spreadKeys((n) => this.keys.replicaKey(id, n), this.policy.replicas)
    // Only hot keys are worth remembering; the cache stays bounded by the hot set.
    if (this.isHot(id)) this.replicaKeyCache.set(id, { keys, at: now })
    return keys
  }

  /** A replica of hot `id` picked at random, so reads of one key spread over the masters. */
  pickReplica(id: string): string | undefined {
    const keys = this.replicaKeys(id)
    if (keys.length === 0) return undefined
    return keys[Math.floor(this.random() * keys.length)]
  }

  list(): HotKeyInfo[] {
    const every = this.policy.sampleEvery
    return this.detector.hotKeys().map((info) => ({ ...info, rate: info.rate * every }))
  }
}
