import { TierCacheError } from './errors.js'

/**
 * Turns values into strings for the remote tier and back. The default is JSON; plug in another
 * (e.g. superjson for Dates and Maps) through `createCache({ serializer })`.
 *
 * `serialize` must throw for a value it cannot represent faithfully: tiercache then returns the
 * loaded value to the caller without caching it, and logs one warning.
 */
export interface Serializer {
  serialize(value: unknown): string
  deserialize(text: string): unknown
}

// JSON.stringify silently drops functions and symbols inside objects and turns them into
// `undefined` at the top level, which would cache a different value than the one loaded.
// The replacer makes those cases loud; BigInt and cycles already throw in JSON.stringify.
function strictReplacer(this: unknown, key: string, value: unknown): unknown {
  const kind = typeof value
  if (kind === 'function' || kind === 'symbol') {
    throw new TypeError(`cannot serialize a ${kind}${key === '' ? '' : ` at key "${key}"`}`)
  }
  return value
}

/**
 * JSON with strict checks: functions, symbols, BigInt and circular structures are rejected.
 * Dates come back as ISO strings and `undefined` inside arrays as `null` (JSON's own rules).
 */
export const jsonSerializer: Serializer = {
  serialize(value) {
    return JSON.stringify(value, strictReplacer)
  },
  deserialize(text) {
    return JSON.parse(text)
  },
}

/**
 * Serializes with `serializer`, turning its failure into `VALUE_NOT_SERIALIZABLE`. `what` names
 * the value in the message; `about` (the entity and id of the value) goes on the error's fields.
 */
export function serializeOrThrow(serializer: Serializer, value: unknown, what: string, about?: { entity: string; id: string }): string {
  let text: unknown
  try {
    text = serializer.serialize(value)
  } catch (error) {
    throw new TierCacheError(
      'VALUE_NOT_SERIALIZABLE',
      `${what} cannot be serialized (${error instanceof Error ? error.message : String(error)}); it was returned but not cached`,
      { cause: error, ...about },
    )
  }
  if (typeof text !== 'string') {
    throw new TierCacheError('VALUE_NOT_SERIALIZABLE', `${what}: the serializer returned ${typeof text}, not a string`, about)
  }
  return text
}
