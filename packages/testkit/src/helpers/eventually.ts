/**
 * Polls `check` every 2 ms until it returns true, and resolves with the milliseconds it took;
 * rejects once `timeoutMs` (default 2,000: generous for a loaded machine) passes without it.
 * For waiting on an event the code under test does not announce, never for a fixed time.
 */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 2_000): Promise<number> {
  const started = performance.now()
  for (;;) {
    if (await check()) return performance.now() - started
    if (performance.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}
