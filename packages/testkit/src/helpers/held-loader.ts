import { deferred } from './deferred.js'

/** A loader the test holds: see {@link heldLoader}. */
export interface HeldLoader<T> {
  /** Pass it as the loader; every call waits for {@link release}, then returns the value. */
  readonly loader: () => Promise<T>
  /** Resolves once the loader was first called (the load is in flight). */
  readonly started: Promise<void>
  /** Lets every call of the loader return. */
  release(): void
}

/** A loader that signals when it starts and returns `value` only once the test releases it. */
export function heldLoader<T>(value: T): HeldLoader<T> {
  const started = deferred()
  const released = deferred()
  return {
    loader: async () => {
      started.resolve()
      await released.promise
      return value
    },
    started: started.promise,
    release: () => released.resolve(),
  }
}
