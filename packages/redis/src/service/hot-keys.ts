import { messageOf } from '../deployment/node-facts.js'

/** One hot key as a service reports it (`cache.hotKeys()`). */
export interface HotKeyRow {
  entity: string
  id: string
  /** Reads per second in the reporting instance. */
  rate: number
}

/** A service's hot keys, or why they could not be read. */
export type ServiceHotKeys = { url: string; keys: HotKeyRow[] } | { url: string; error: string }

/**
 * Reads a service's hot keys over HTTP: a JSON array of `{ entity, id, rate }` (what
 * `cache.hotKeys()` returns), or an object holding one under `hotKeys`. Hottest first. Never
 * rejects: a failure comes back as `{ url, error }` (waits at least 3 s, or `timeoutMs`).
 */
export async function fetchHotKeys(url: string, timeoutMs: number): Promise<ServiceHotKeys> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(Math.max(timeoutMs, 3_000)) })
    if (!response.ok) return { url, error: `HTTP ${response.status} ${response.statusText}` }
    const body = (await response.json()) as unknown
    const list = Array.isArray(body) ? body : (body as { hotKeys?: unknown } | null)?.hotKeys
    if (!Array.isArray(list)) return { url, error: 'expected a JSON array of { entity, id, rate } (cache.hotKeys())' }
    const keys = list
      .filter(
        (item): item is HotKeyRow =>
          typeof item === 'object' &&
          item !== null &&
          typeof item.entity === 'string' &&
          typeof item.id === 'string' &&
          typeof item.rate === 'number',
      )
      .map(({ entity, id, rate }) => ({ entity, id, rate }))
      .sort((a, b) => b.rate - a.rate)
    return { url, keys }
  } catch (error) {
    return { url, error: messageOf(error) }
  }
}
