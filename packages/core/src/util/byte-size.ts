const UNIT_BYTES: Record<string, number> = { b: 1, kb: 1024, mb: 1024 * 1024 }
const SIZE_PATTERN = /^(\d+(?:\.\d+)?)\s*(b|kb|mb)$/i

/**
 * A size as users write it: a whole number of bytes, or a string of a number and a unit (`b`,
 * `kb`, `mb`; binary multiples, so `'4kb'` is 4096 bytes; case does not matter), e.g. `'512b'`,
 * `'4kb'`, `'1.5mb'`.
 */
export type ByteSize = number | string

/**
 * Parses a {@link ByteSize} into whole bytes (rounded down), or `undefined` when the input is not
 * a size. The config schema turns `undefined` into an `INVALID_CONFIG` error naming the field.
 */
export function tryParseByteSize(input: unknown): number | undefined {
  if (typeof input === 'number') return Number.isSafeInteger(input) && input >= 0 ? input : undefined
  if (typeof input !== 'string') return undefined
  const match = SIZE_PATTERN.exec(input.trim())
  if (match === null) return undefined
  const bytes = Math.floor(Number(match[1]) * (UNIT_BYTES[(match[2] as string).toLowerCase()] as number))
  return Number.isSafeInteger(bytes) ? bytes : undefined
}
