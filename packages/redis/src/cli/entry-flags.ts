import { assertStorableId, isValidTag, NAME_PATTERN } from '@tiercache/core'
import { flagError, UsageError } from './connection-flags.js'

/** The flags naming entries: `--namespace`, `--entity`, `--id` (repeatable), `--tag` (repeatable). */
export const ENTRY_FLAGS = {
  namespace: { type: 'string' },
  entity: { type: 'string' },
  id: { type: 'string', multiple: true },
  tag: { type: 'string', multiple: true },
} as const

/** Printed (and tested) when `--namespace` is missing: commands that touch entries refuse to guess one. */
export const NAMESPACE_REQUIRED = '--namespace is required: tiercache only touches the keys of the namespace you name'

/**
 * The namespace, checked against the names `createCache` accepts; throws {@link UsageError} when
 * it is missing or malformed.
 */
export function namespaceFlag(value: string | undefined): string {
  if (value === undefined) throw new UsageError(NAMESPACE_REQUIRED)
  return checkName('--namespace', value)
}

/** A namespace or entity name as `createCache` accepts it; {@link UsageError} otherwise. */
export function checkName(flag: string, value: string): string {
  if (!NAME_PATTERN.test(value))
    throw new UsageError(`${flag} must be 1 to 64 letters, digits, "_", "-" or ".", got ${JSON.stringify(value)}`)
  return value
}

/** Ids as a cache accepts them for L2 (non-empty, at most 512 characters, well-formed); {@link UsageError} otherwise. */
export function checkIds(entity: string, ids: readonly string[]): string[] {
  for (const id of ids) {
    try {
      assertStorableId(id, entity)
    } catch (error) {
      throw flagError('--id: ', error)
    }
  }
  return [...ids]
}

/** Tags as `cache.invalidateTag` accepts them; {@link UsageError} otherwise. */
export function checkTags(tags: readonly string[]): string[] {
  for (const tag of tags) if (!isValidTag(tag)) throw new UsageError('--tag must be a non-empty string of at most 512 characters')
  return [...tags]
}
