import type { BusHandlers } from '@tiercache/core'

/** What a {@link busRecorder} heard on its subscription. */
export interface HeardOnBus {
  messages: string[]
  disconnects: number
  reconnects: number
}

/** Bus handlers that record every message, disconnect and reconnect, for `RemoteStore.subscribe` in tests. */
export function busRecorder(): { heard: HeardOnBus; handlers: BusHandlers } {
  const heard: HeardOnBus = { messages: [], disconnects: 0, reconnects: 0 }
  const handlers: BusHandlers = {
    onMessage: (message) => heard.messages.push(message),
    onDisconnect: () => heard.disconnects++,
    onReconnect: () => heard.reconnects++,
  }
  return { heard, handlers }
}
