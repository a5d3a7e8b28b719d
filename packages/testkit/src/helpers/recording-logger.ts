import type { Logger } from '@tiercache/core'

/** One call a {@link recordingLogger} received: its level, its context object (with the child bindings) and its message. */
export interface LogRecord {
  level: 'debug' | 'info' | 'warn' | 'error'
  obj: Record<string, unknown>
  msg?: string
}

/** A logger that keeps what it is given, so tests can assert on warnings. Child loggers write into the same `records`. */
export function recordingLogger(): Logger & { records: LogRecord[] } {
  const records: LogRecord[] = []
  const make = (bindings: object): Logger => {
    const at =
      (level: LogRecord['level']) =>
      (obj: object, msg?: string): void => {
        records.push({ level, obj: { ...bindings, ...obj }, msg })
      }
    return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (more) => make({ ...bindings, ...more }) }
  }
  return Object.assign(make({}), { records })
}
