import type { Logger } from '../src/util/logger.js'

/** A logger that keeps what it is given, so tests can assert on warnings. */
export function recordingLogger(): Logger & { records: { level: string; obj: object; msg?: string }[] } {
  const records: { level: string; obj: object; msg?: string }[] = []
  const make = (bindings: object): Logger => ({
    debug: (obj, msg) => records.push({ level: 'debug', obj: { ...bindings, ...obj }, msg }),
    info: (obj, msg) => records.push({ level: 'info', obj: { ...bindings, ...obj }, msg }),
    warn: (obj, msg) => records.push({ level: 'warn', obj: { ...bindings, ...obj }, msg }),
    error: (obj, msg) => records.push({ level: 'error', obj: { ...bindings, ...obj }, msg }),
    child: (more) => make({ ...bindings, ...more }),
  })
  return Object.assign(make({}), { records })
}
