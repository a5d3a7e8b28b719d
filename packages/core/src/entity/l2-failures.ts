import type { EntityMetrics } from '../metrics/entity-metrics.js'
import type { EntityStats } from '../metrics/entity-stats.js'
import type { Clock } from '../util/clock.js'
import { TierCacheError } from '../util/errors.js'
import type { Logger } from '../util/logger.js'

// Failures of L2 are logged at most this often per entity, so an outage does not flood logs.
const L2_ERROR_LOG_INTERVAL_MS = 10_000

/**
 * How one entity records a failed L2 call: counted (`l2Errors`, `l2Timeouts`), published on the
 * `tiercache:l2-error` channel, and logged at most once every 10 s. An L2 failure never reaches
 * the caller of a read or a write: the engine serves without L2.
 */
export class L2Failures {
  private lastLoggedAt = Number.NEGATIVE_INFINITY

  constructor(
    private readonly counters: EntityStats,
    private readonly metrics: EntityMetrics,
    private readonly log: Logger,
    private readonly clock: Clock,
  ) {}

  /** Records that `operation` failed with `error`. */
  failed(operation: string, error: unknown): void {
    this.counters.l2Errors++
    if (error instanceof TierCacheError && error.code === 'L2_TIMEOUT') this.counters.l2Timeouts++
    this.metrics.l2Error(operation, error)
    const now = this.clock.now()
    if (now - this.lastLoggedAt >= L2_ERROR_LOG_INTERVAL_MS) {
      this.lastLoggedAt = now
      this.log.warn({ err: error, operation }, 'L2 call failed; served without L2')
    }
  }

  /** Runs an L2 call whose failure is recorded, never thrown; resolves true when it succeeded. */
  async attempt(operation: string, call: () => Promise<unknown>): Promise<boolean> {
    try {
      await call()
      return true
    } catch (error) {
      this.failed(operation, error)
      return false
    }
  }
}
