import { describe, expect, it } from 'vitest'
import { decodeEnvelope, type Envelope, encodeEnvelope } from '../src/l2/envelope.js'

const base: Envelope = { kind: 'v', payload: '{"a":"x|y"}', createdAt: 1000, freshUntil: 2000, staleUntil: 3000, loadMs: 12, tags: [] }

describe('envelope', () => {
  it('writes tc1 unless the loader chose an L1 ttl, and tc2 with it as one more header field', () => {
    expect(encodeEnvelope(base)).toBe('tc1|v|1000|2000|3000|12|0|{"a":"x|y"}')
    expect(encodeEnvelope({ ...base, l1TtlMs: 1_500 })).toBe('tc2|v|1000|2000|3000|12|1500|0|{"a":"x|y"}')
  })

  it('round-trips values, absent markers and tags holding the separator', () => {
    for (const envelope of [
      base,
      { ...base, tags: ['category:7', 'a|b', 'é'] },
      { ...base, kind: 'n' as const, payload: '' },
      { ...base, kind: 'u' as const, payload: '' },
      { ...base, l1TtlMs: 1_500, tags: ['a|b'] },
      { ...base, kind: 'n' as const, payload: '', l1TtlMs: 0 },
    ]) {
      expect(decodeEnvelope(encodeEnvelope(envelope))).toEqual(envelope)
    }
  })

  it.each([
    ['another application string', 'hello'],
    ['empty', ''],
    ['a wrong version', encodeEnvelope(base).replace('tc1|', 'tc3|')],
    ['a tc1 header read as tc2 (no L1 field)', 'tc2|v|1000|2000|3000|0|0|1'],
    ['a tc2 header without its L1 field', 'tc2|v|1000|2000|3000|12|'],
    ['a non-numeric L1 ttl', 'tc2|v|1000|2000|3000|12|soon|0|1'],
    ['truncated header', 'tc1|v|1000|2000'],
    ['non-numeric time', 'tc1|v|abc|2000|3000|0|0|1'],
    ['negative time', 'tc1|v|-1|2000|3000|0|0|1'],
    ['unknown kind', 'tc1|x|1000|2000|3000|0|0|1'],
    ['a two-letter kind', 'tc1|vv|1000|2000|3000|0|0|1'],
    ['an empty kind', 'tc1||1000|2000|3000|0|0|1'],
    ['fresh before created', 'tc1|v|3000|2000|3000|0|0|1'],
    ['tags length past the end', 'tc1|v|1000|2000|3000|0|99|["a"]'],
    ['tags that are not strings', 'tc1|v|1000|2000|3000|0|3|[1]x'],
    ['a payload on an absent marker', 'tc1|n|1000|2000|3000|0|0|1'],
  ])('rejects %s', (_, raw) => {
    expect(decodeEnvelope(raw)).toBeUndefined()
  })
})
