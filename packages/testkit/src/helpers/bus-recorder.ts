import type { BusHandlers, BusLossCause } from '@tiercache/core'

/** What a {@link busRecorder} heard on its subscription. */
export interface HeardOnBus {
  messages: string[]
  disconnects: number
  /** The cause of each disconnect, in order. */
  causes: BusLossCause[]
  reconnects: number
}

/** Bus handlers that record every message, disconnect and reconnect, for `RemoteStore.subscribe` in tests. */
export function busRecorder(): { heard: HeardOnBus; handlers: BusHandlers } {
  const heard: HeardOnBus = { messages: [], disconnects: 0, causes: [], reconnects: 0 }
  const handlers: BusHandlers = {
    onMessage: (message) => heard.messages.push(message),
    onDisconnect: (cause) => {
      heard.disconnects++
      heard.causes.push(cause)
    },
    onReconnect: () => heard.reconnects++,
  }
  return { heard, handlers }
}
