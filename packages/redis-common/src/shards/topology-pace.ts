import { TOPOLOGY_FAST_WINDOW_MS, topologyRefreshDelay } from './slot-map.js'

/**
 * How often a cluster store reads the slot map while someone listens to its topology: every
 * `TOPOLOGY_REFRESH_MS`, and every `TOPOLOGY_FAST_REFRESH_MS` for
 * {@link TOPOLOGY_FAST_WINDOW_MS} after a node connection fails, so a failover is seen soon after
 * the promotion. One pace for the ioredis and the node-redis store; `now` is its clock (ms),
 * injectable for tests.
 */
export class TopologyPace {
  private fastUntil = Number.NEGATIVE_INFINITY

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * A node failed: the fast pace holds for the next window. Returns `true` when the pace was slow
   * until now, so a read already scheduled at the slow pace should be scheduled again.
   */
  nodeFailing(): boolean {
    const wasFast = this.now() < this.fastUntil
    this.fastUntil = this.now() + TOPOLOGY_FAST_WINDOW_MS
    return !wasFast
  }

  /** How long until the next read of the slot map (ms). */
  delay(): number {
    return topologyRefreshDelay(this.now(), this.fastUntil)
  }
}
