/**
 * `call`'s outcome, or a rejection with `Error(message)` once `ms` passed without one. A Redis
 * node that hangs (paused, partitioned) keeps its connection open and never answers, so a call to
 * it needs a bound of its own. The timer does not keep the process alive, and `call` keeps
 * running past the bound (a sent command cannot be taken back); its later rejection is observed.
 */
export function settleWithin<T>(call: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms)
    timer.unref()
  })
  return Promise.race([call, timeout]).finally(() => clearTimeout(timer))
}
