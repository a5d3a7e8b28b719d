import { TierCacheError } from '../util/errors.js'

/** The longest id accepted, in UTF-16 code units. Longer ids throw `INVALID_KEY`. */
export const MAX_ID_LENGTH = 512

/**
 * Throws `INVALID_KEY` unless `id` is a non-empty string of at most {@link MAX_ID_LENGTH}
 * code units. Called on every read, so it does no more than three comparisons when the id is good.
 */
export function assertValidId(id: unknown, entity: string): asserts id is string {
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) throw invalidId(id, entity)
}

/**
 * {@link assertValidId}, plus: `id` must be well-formed UTF-16. A lone surrogate reaches Redis as
 * U+FFFD, so `'\uD800'` and `'\uDC00'` would share one key and read each other's values. Called
 * wherever an id may reach L2 (an L1 miss, getMany, set, invalidate); an id found in L1 passed it
 * already, so the L1 hit path does not pay for the scan.
 */
export function assertStorableId(id: unknown, entity: string): asserts id is string {
  assertValidId(id, entity)
  if (!isWellFormed(id)) {
    throw new TierCacheError(
      'INVALID_KEY',
      `entity "${entity}": an id must be well-formed UTF-16, got one with a lone surrogate (Redis would store it as U+FFFD and mix it up with other ids)`,
      { entity, id },
    )
  }
}

/** True when `text` has no lone surrogate (ES2024 `isWellFormed`, in Node since 20; one-byte strings answer without a scan). */
function isWellFormed(text: string): boolean {
  return (text as unknown as { isWellFormed(): boolean }).isWellFormed()
}

function invalidId(id: unknown, entity: string): TierCacheError {
  const what =
    typeof id !== 'string'
      ? id === null || id === undefined
        ? String(id)
        : `${/^[aeiou]/.test(typeof id) ? 'an' : 'a'} ${typeof id}`
      : id.length === 0
        ? 'an empty string'
        : `${id.length} characters long (the limit is ${MAX_ID_LENGTH})`
  return new TierCacheError(
    'INVALID_KEY',
    `entity "${entity}": an id must be a non-empty string of at most ${MAX_ID_LENGTH} characters, got ${what}`,
    { entity },
  )
}

/** True when `tag` is a non-empty string of at most {@link MAX_ID_LENGTH} code units. */
export function isValidTag(tag: unknown): tag is string {
  return typeof tag === 'string' && tag.length > 0 && tag.length <= MAX_ID_LENGTH
}

/** True when `text` holds a Redis Cluster hash tag: a `{` followed later by `}` with something between. */
export function hasHashTag(text: string): boolean {
  const open = text.indexOf('{')
  if (open === -1) return false
  const close = text.indexOf('}', open + 1)
  return close > open + 1
}

/**
 * Builds the remote keys of one entity. A value key is `{<namespace>:<entity>:<id>}`: the hash
 * tag puts the value, its lock and its lease on one slot, so they change together atomically.
 * An id that carries its own hash tag keeps it (`<namespace>:<entity>:<id>`), so users can
 * co-locate entries on purpose.
 *
 * The lock key must never equal another id's value key: wrapped value keys end in `}` while
 * wrapped lock keys end in `}:lock`, and unwrapped lock keys start with `<namespace>:<entity>!lock:`,
 * a prefix no value key has because entity names cannot contain `!`.
 */
export class KeyBuilder {
  private readonly prefix: string

  constructor(
    readonly namespace: string,
    readonly entity: string,
  ) {
    this.prefix = `${namespace}:${entity}:`
  }

  /** The key of the value of `id` (which must already be valid). */
  valueKey(id: string): string {
    return hasHashTag(id) ? this.prefix + id : `{${this.prefix}${id}}`
  }

  /** The key of the load lock (and lease) of `id`, on the same slot as its value. */
  lockKey(id: string): string {
    return hasHashTag(id) ? `${this.namespace}:${this.entity}!lock:${id}` : `{${this.prefix}${id}}:lock`
  }

  /**
   * Candidate key `n` for a replica of hot `id`: `{<namespace>!hot:<entity>:<n>:<id>}`. `n` sits
   * inside the hash tag before the id, so each candidate hashes to its own slot whatever the id
   * holds; `!` keeps replicas apart from every value, lock and tag key.
   */
  replicaKey(id: string, n: number): string {
    return `{${this.namespace}!hot:${this.entity}:${n}:${id}}`
  }
}

/**
 * The prefixes of every remote key of a namespace, for `cache.clear()` and operators' tools:
 * `{<namespace>:` (values, locks), `<namespace>:` (values and locks of ids that carry their own
 * hash tag) and `{<namespace>!` (hot-key replicas, tag stamps). No key of another namespace
 * starts with one of them, since a namespace holds none of `:`, `!`, `{`, `}`.
 */
export function namespaceKeyPrefixes(namespace: string): string[] {
  return [`{${namespace}:`, `${namespace}:`, `{${namespace}!`]
}

/** The remote key holding the invalidation stamp of a tag (`!` keeps it apart from every value key). */
export function tagStampKey(namespace: string, tag: string): string {
  return `{${namespace}!tag:${tag}}`
}
