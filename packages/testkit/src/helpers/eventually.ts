import { EVENTUALLY } from '../loaded-machine.js'

/**
 * Polls `check` every 2 ms until it returns true, and resolves with the milliseconds it took;
 * rejects once `timeoutMs` passes without it (default: {@link EVENTUALLY}'s 15 s, a deadline for a
 * loaded 2-core machine that costs nothing when the check holds sooner). For waiting on an event
 * the code under test does not announce, never for a fixed time.
 */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs: number = EVENTUALLY.timeout): Promise<number> {
  const started = performance.now()
  for (;;) {
    if (await check()) return performance.now() - started
    if (performance.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}
