import { TierCacheError } from '@tiercache/core'
import type { z } from 'zod'

/**
 * Parses user options at the edge. A failure becomes a `TierCacheError` with code
 * `INVALID_CONFIG` whose message names every bad field by its path (`redisOptions.keyPrefix`),
 * so the fix is obvious without reading a stack trace.
 */
export function parseOptions<Schema extends z.ZodType>(schema: Schema, input: unknown, what: string): z.output<Schema> {
  const result = schema.safeParse(input)
  if (result.success) return result.data
  const problems = result.error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`)
  throw new TierCacheError('INVALID_CONFIG', `invalid ${what} options: ${problems.join('; ')}`, { cause: result.error })
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(options)'
  let out = ''
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`
    else out += out === '' ? String(part) : `.${String(part)}`
  }
  return out
}

/** Throws `INVALID_CONFIG` for a problem found outside a schema (e.g. on a passed-in client). */
export function invalidConfig(what: string, message: string): never {
  throw new TierCacheError('INVALID_CONFIG', `invalid ${what} options: ${message}`)
}
