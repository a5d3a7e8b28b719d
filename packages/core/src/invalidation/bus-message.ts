/**
 * Messages on the invalidation bus. JSON with short field names: `s` the sending instance
 * (receivers ignore their own), then either `e` + `k` (an entity and the ids it invalidates,
 * batched into one message per call), `t` + `at` (tags and their invalidation stamp), or
 * `clear: true` (`cache.clear()`: drop every entry of the namespace). Instances of a version
 * without `clear` ignore it as malformed; their L1 TTL then bounds what they keep.
 */
export type BusMessage =
  | { readonly s: string; readonly e: string; readonly k: readonly string[] }
  | { readonly s: string; readonly t: readonly string[]; readonly at: number }
  | { readonly s: string; readonly clear: true }

export function encodeBusMessage(message: BusMessage): string {
  return JSON.stringify(message)
}

/** Parses a bus message; `undefined` for anything malformed or foreign (it is then ignored). */
export function decodeBusMessage(text: string): BusMessage | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined
  const m = parsed as Record<string, unknown>
  if (typeof m.s !== 'string') return undefined
  if (typeof m.e === 'string' && isStringArray(m.k)) return { s: m.s, e: m.e, k: m.k }
  if (isStringArray(m.t) && typeof m.at === 'number' && Number.isFinite(m.at)) return { s: m.s, t: m.t, at: m.at }
  if (m.clear === true) return { s: m.s, clear: true }
  return undefined
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string')
}
