/** What one probe of {@link waitUntil} found: done with a value, or not yet and why. */
export type ProbeResult<T> = { readonly done: true; readonly value: T } | { readonly done: false; readonly reason: string }

/** Options of {@link waitUntil}. */
export interface WaitUntilOptions {
  /** Give up after this many milliseconds. */
  timeoutMs: number
  /** Milliseconds between probes. Default 50: fast enough that tests do not wait for nothing. */
  intervalMs?: number
}

/**
 * Runs `probe` until it reports done and resolves with its value. A probe that throws counts as
 * "not yet" with the error as reason. On timeout, rejects with an Error naming `what` and the
 * last reason, so a failed wait says what was still wrong.
 */
export async function waitUntil<T>(what: string, probe: () => Promise<ProbeResult<T>>, options: WaitUntilOptions): Promise<T> {
  const { timeoutMs, intervalMs = 50 } = options
  const deadline = Date.now() + timeoutMs
  let reason = 'not probed yet'
  for (;;) {
    try {
      const result = await probe()
      if (result.done) return result.value
      reason = result.reason
    } catch (error) {
      reason = error instanceof Error ? error.message : String(error)
    }
    if (Date.now() >= deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}: ${reason}`)
    await sleep(intervalMs)
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
