/** First pause after a failed connect attempt, in ms; doubles per failure. */
const RETRY_BASE_MS = 100
/** Cap of the pause between connect attempts, in ms. */
const RETRY_MAX_MS = 2_000

/**
 * Runs `attempt` until it resolves or `stopped()` turns true, pausing with backoff between
 * failures and reporting each to `onFailure`. Why: a node-redis cluster (and Sentinel) client
 * gives up when its first discovery fails, while a cache must wait for Redis to come rather
 * than stay without L2 for the life of the process.
 */
export async function keepConnecting(
  attempt: () => Promise<unknown>,
  stopped: () => boolean,
  onFailure: (error: unknown) => void,
): Promise<void> {
  for (let failures = 0; !stopped(); failures++) {
    try {
      await attempt()
      return
    } catch (error) {
      onFailure(error)
      if (stopped()) return
      await new Promise((resolve) => setTimeout(resolve, Math.min(RETRY_BASE_MS * 2 ** failures, RETRY_MAX_MS)).unref())
    }
  }
}
