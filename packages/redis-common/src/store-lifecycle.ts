import type { Finding } from './deployment/findings.js'

/**
 * The start and the end of a store's life, the same whatever the client library: commands wait
 * for the client's first connection attempt to settle, the deployment check runs once (again
 * after a failure), and `close()` shuts the store down once.
 */
export class StoreLifecycle {
  /**
   * Pending until the client's first connection attempt settles, then `undefined`. A field, not
   * a method: the L2 hit path tests it on every read and goes on without a promise when it is gone.
   */
  startup: Promise<void> | undefined
  private closing: Promise<void> | undefined
  private checking: Promise<Finding[]> | undefined

  /** `firstConnect`: the store's "first attempt settled" promise; `undefined` when the client is ready already. */
  constructor(firstConnect: Promise<void> | undefined) {
    this.startup = firstConnect
    firstConnect?.then(() => {
      this.startup = undefined
    })
  }

  /** `close()` was called. */
  get closed(): boolean {
    return this.closing !== undefined
  }

  /** Runs `shutdown` on the first call; every call returns its promise. */
  close(shutdown: () => Promise<void>): Promise<void> {
    this.closing ??= shutdown()
    return this.closing
  }

  /**
   * Runs `check` on the first call and returns the same promise on every later one; a check
   * that rejects is forgotten, so the next call runs it again.
   */
  deploymentCheck(check: () => Promise<Finding[]>): Promise<Finding[]> {
    this.checking ??= check().catch((error: unknown) => {
      this.checking = undefined
      throw error
    })
    return this.checking
  }
}
