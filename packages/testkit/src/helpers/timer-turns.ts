/**
 * Runs `step` again and again until a 1 ms timer fires or `max` runs are done; resolves with
 * whether the timer fired and after how many runs. For tests that a loop of awaited calls that
 * do no I/O (answered from memory, skipped by a breaker, rejected at once) still lets the event
 * loop turn: without a turn now and then, such a loop is one chain of microtasks and the timer
 * fires only after all of it.
 */
export async function loopUntilTimerFires(max: number, step: () => Promise<void>): Promise<{ fired: boolean; runs: number }> {
  let fired = false
  setTimeout(() => {
    fired = true
  }, 1)
  let runs = 0
  while (!fired && runs < max) {
    await step()
    runs++
  }
  return { fired, runs }
}
