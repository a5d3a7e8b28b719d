/** The result of racing a promise against a deadline. */
export type Raced<T> = { done: true; value: T } | { done: false }

/**
 * Waits for `promise` at most `ms` milliseconds. The promise keeps running after a timeout
 * (a loader cannot be cancelled); its rejection is then still observed, never unhandled.
 */
export function raceTimeout<T>(promise: Promise<T>, ms: number): Promise<Raced<T>> {
  if (!Number.isFinite(ms)) return promise.then((value) => ({ done: true, value }))
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<Raced<T>>((resolve) => {
    timer = setTimeout(() => resolve({ done: false }), ms)
  })
  return Promise.race([promise.then((value): Raced<T> => ({ done: true, value })), timeout]).finally(() => clearTimeout(timer))
}

/** Resolves after `ms` milliseconds, on a timer that does not keep the process alive. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}
