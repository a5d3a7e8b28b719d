import type { EventEmitter } from 'node:events'

/** A node-redis client (standalone, cluster or Sentinel) as closing sees it. */
interface ClosableClient {
  readonly isOpen: boolean
  close(): Promise<unknown>
  destroy(): void
}

/** The closing half of a {@link ClientHandle}: whether it is closed, and its `close`. */
export interface HandleCloser {
  /** `close` was called: connect loops stop. */
  closed(): boolean
  close(closeClient: boolean): Promise<void>
}

/**
 * The `close` of a handle, the same for every kind of client: marks the handle closed once,
 * emits `closed` on `events`, and closes the client when the store owns it (`closeClient`). A
 * client whose close fails (the connection is already gone) is destroyed, so nothing is left open.
 */
export function handleCloser(events: EventEmitter, client: ClosableClient): HandleCloser {
  let closed = false
  return {
    closed: () => closed,
    async close(closeClient) {
      if (closed) return
      closed = true
      events.emit('closed')
      if (!closeClient || !client.isOpen) return
      try {
        await client.close()
      } catch {
        if (client.isOpen) client.destroy()
      }
    },
  }
}
