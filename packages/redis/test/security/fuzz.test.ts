import { isTierCacheError, type TierCache } from '@tiercache/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fleet, uniqueNamespace } from '../engine/helpers.js'

// Characters that matter to keys: hash-tag braces, separators, control characters, look-alike
// letters, glob characters; and any code point.
const unit = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.constantFrom('{', '}', ':', '!', ' ', '\n', '\r', '\t', '\u0000', 'a', 'ä', 'a\u0308', '\u212B', '😀', '*', '?', '['),
  },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
)
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code))

const id = fc.oneof(
  { weight: 8, arbitrary: fc.string({ unit, maxLength: 24 }) },
  // around the 512-code-unit limit
  { weight: 2, arbitrary: fc.string({ unit, minLength: 250, maxLength: 600 }) },
  { weight: 1, arbitrary: fc.constant('') },
  // lone surrogates: Redis would store each as U+FFFD
  {
    weight: 1,
    arbitrary: fc.tuple(fc.string({ unit, maxLength: 8 }), loneSurrogate, fc.string({ unit, maxLength: 8 })).map((parts) => parts.join('')),
  },
)

/** The rule the cache must apply: a non-empty, well-formed string of at most 512 code units. */
function isValidId(text: string): boolean {
  return text.length > 0 && text.length <= 512 && (text as unknown as { isWellFormed(): boolean }).isWellFormed()
}

/** What JSON makes of a value (-0 becomes 0): the cache's documented copy. */
function viaJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value))
}

const mustNotLoad = async (): Promise<never> => {
  throw new Error('loaded although the value was cached')
}

async function expectInvalidKey(attempt: () => Promise<unknown>): Promise<void> {
  const outcome = await attempt().then(
    () => 'resolved',
    (error: unknown) => error,
  )
  expect(isTierCacheError(outcome, 'INVALID_KEY')).toBe(true)
}

describe('fuzz: arbitrary ids and values through two instances', () => {
  it('never crashes, rejects exactly the invalid ids with INVALID_KEY, and never returns one id the value of another', async () => {
    const { caches, close } = await fleet(2, { namespace: uniqueNamespace(), entities: { fuzz: { ttl: '1m', l1: false, hot: false } } })
    const [one, two] = (caches as [TierCache, TierCache]).map((cache) => cache.entity<{ owner: string; v: unknown }>('fuzz')) as [
      ReturnType<TierCache['entity']>,
      ReturnType<TierCache['entity']>,
    ]
    let validPairs = 0
    let invalidIds = 0
    await fc.assert(
      fc.asyncProperty(id, id, fc.jsonValue({ maxDepth: 3 }), fc.jsonValue({ maxDepth: 3 }), async (idA, idB, a, b) => {
        for (const candidate of [idA, idB]) {
          if (isValidId(candidate)) continue
          invalidIds++
          const loader = async () => 'never'
          await expectInvalidKey(() => one.get(candidate, loader))
          await expectInvalidKey(() => two.getMany(['ok', candidate], async (ids) => ids.map(() => 'never')))
          await expectInvalidKey(() => one.set(candidate, { owner: candidate, v: null }))
          await expectInvalidKey(() => two.invalidate(candidate))
        }
        if (!isValidId(idA) || !isValidId(idB) || idA === idB) return
        validPairs++
        const valueA = { owner: idA, v: a }
        const valueB = { owner: idB, v: b }
        await one.set(idA, valueA)
        await two.set(idB, valueB)
        expect(await two.get(idA, mustNotLoad)).toEqual(viaJson(valueA))
        expect(await one.get(idB, mustNotLoad)).toEqual(viaJson(valueB))
        await one.invalidate(idA)
        const reloaded = { owner: idA, v: 'reloaded' }
        expect(await two.get(idA, async () => reloaded)).toEqual(reloaded)
        // invalidating A left B alone, and a batch read sees both under their own ids
        expect(await one.getMany([idB, idA], mustNotLoad)).toEqual([viaJson(valueB), reloaded])
      }),
      { numRuns: 200 },
    )
    // the generators reached both kinds of input
    expect(validPairs).toBeGreaterThan(50)
    expect(invalidIds).toBeGreaterThan(20)
    for (const cache of caches) expect(cache.stats().fuzz).toMatchObject({ l2Errors: 0, corruptEntries: 0 })
    await close()
    // 200 runs of about ten Redis round trips each: under `pnpm test:stress` it ran past 60 s. A
    // deadline for a long test, not a bound it checks.
  }, 180_000)
})
