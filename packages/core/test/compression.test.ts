import * as zlib from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { createCache, type TierCacheError } from '../src/index.js'
import { decodeEnvelope, type Envelope, encodeEnvelope } from '../src/l2/envelope.js'
import { compressEnvelope, decompressEnvelope } from '../src/l2/envelope-compression.js'
import { tryParseByteSize } from '../src/util/byte-size.js'
import { type CompressionCodec, compressText, crc32ByTable, decompressText, zstdAvailable } from '../src/util/compression.js'

/** About 20 KB of JSON that repeats itself the way real documents do. */
const document = JSON.stringify({
  id: 'p1',
  variants: Array.from({ length: 200 }, (_, i) => ({
    sku: `SKU-${i}`,
    color: ['red', 'green', 'blue'][i % 3],
    stock: i % 17,
    note: 'é ünïcödé',
  })),
})

const codecs: CompressionCodec[] = zstdAvailable() ? ['brotli', 'gzip', 'zstd'] : ['brotli', 'gzip']
const LEVEL: Record<CompressionCodec, number> = { brotli: 5, gzip: 6, zstd: 3 }

const plain: Envelope = { kind: 'v', payload: document, createdAt: 1000, freshUntil: 2000, staleUntil: 3000, loadMs: 4, tags: ['t|1'] }

describe('compression codecs', () => {
  it.each(codecs)('%s round-trips UTF-8 text and shrinks repetitive JSON', (codec) => {
    const packed = compressText(document, codec, LEVEL[codec])
    expect(packed).toMatch(/^[A-Za-z0-9+/]+=*$/)
    expect(packed.length).toBeLessThan(document.length / 3)
    expect(decompressText(packed, codec, 1024 * 1024)).toBe(document)
  })

  it.each(codecs)('%s refuses corrupt, truncated, non-base64 and oversized data', (codec) => {
    const packed = compressText(document, codec, LEVEL[codec])
    const flipped = Buffer.from(packed, 'base64')
    const middle = Math.floor(flipped.length / 2)
    flipped.writeUInt8(flipped.readUInt8(middle) ^ 0xff, middle)
    expect(() => decompressText(flipped.toString('base64'), codec, 1024 * 1024)).toThrow()
    expect(() => decompressText(packed.slice(0, 4 * Math.floor(packed.length / 8)), codec, 1024 * 1024)).toThrow()
    expect(() => decompressText('', codec, 1024 * 1024)).toThrow()
    expect(() => decompressText(`${packed.slice(0, 8)}!${packed.slice(8)}`, codec, 1024 * 1024)).toThrow('not base64')
    expect(() => decompressText(packed, codec, 1000)).toThrow()
  })

  it('brotli: a damaged stream that still inflates fails the CRC-32 stored with it', () => {
    const packed = compressText(document, 'brotli', 5)
    // the checksum itself damaged: the stream inflates fine, the check fails
    const wrongSum = `${packed.slice(0, 7)}${packed[7] === '0' ? '1' : '0'}${packed.slice(8)}`
    expect(() => decompressText(wrongSum, 'brotli', 1024 * 1024)).toThrow('the brotli payload fails its checksum')
    // every byte of the stream flipped in turn: never the original text and never other text
    const bytes = Buffer.from(packed.slice(8), 'base64')
    for (let i = 0; i < bytes.length; i += 7) {
      const damaged = Buffer.from(bytes)
      damaged.writeUInt8(damaged.readUInt8(i) ^ 0x55, i)
      expect(() => decompressText(`${packed.slice(0, 8)}${damaged.toString('base64')}`, 'brotli', 1024 * 1024)).toThrow()
    }
  })

  it.runIf(zstdAvailable())(
    'zstd: a truncated frame (which Node 22 decompresses without an error) or a wrong checksum fails its CRC-32',
    () => {
      const packed = compressText(document, 'zstd', 3)
      const frame = Buffer.from(packed.slice(8), 'base64')
      const cut = frame.subarray(0, Math.floor(frame.length / 2)).toString('base64')
      expect(() => decompressText(`${packed.slice(0, 8)}${cut}`, 'zstd', 1024 * 1024)).toThrow()
      const wrongSum = `${packed.slice(0, 7)}${packed[7] === '0' ? '1' : '0'}${packed.slice(8)}`
      expect(() => decompressText(wrongSum, 'zstd', 1024 * 1024)).toThrow('the zstd payload fails its checksum')
      expect(decompressText(packed, 'zstd', 1024 * 1024)).toBe(document)
    },
  )

  it('computes the same CRC-32 as zlib without zlib.crc32 (Node 20 before 20.15)', () => {
    for (const text of ['', 'a', document]) {
      const bytes = Buffer.from(text)
      expect(crc32ByTable(bytes)).toBe((zlib as unknown as { crc32(d: Uint8Array): number }).crc32(bytes))
    }
  })

  it('refuses a stream that inflates to bytes that are not UTF-8', () => {
    // gzip of raw bytes, as a broken writer (or a flipped bit brotli has no checksum for) could leave
    const packed = zlib.gzipSync(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])).toString('base64')
    expect(() => decompressText(packed, 'gzip', 100)).toThrow()
  })

  it.skipIf(zstdAvailable())('says zstd needs a newer Node when the runtime lacks it', () => {
    expect(() => compressText(document, 'zstd', 3)).toThrow(
      `zstd needs Node 22.15+ (zlib.zstdCompressSync); this is Node ${process.versions.node}`,
    )
    expect(() => decompressText('KLUv/QBYAQAAeA==', 'zstd', 100)).toThrow('zstd needs Node 22.15+')
  })
})

describe('compressed envelopes', () => {
  it.each(codecs)('marks %s in the kind and round-trips through encode, decode and decompress', (codec) => {
    const stored = compressEnvelope(plain, { codec, level: LEVEL[codec], overBytes: 4096 })
    expect(stored.codec).toBe(codec)
    const raw = encodeEnvelope(stored)
    expect(raw.startsWith(`tc1|${{ brotli: 'b', gzip: 'g', zstd: 'z' }[codec]}|1000|2000|3000|4|`)).toBe(true)
    const decoded = decodeEnvelope(raw)
    expect(decoded).toEqual(stored)
    expect(decompressEnvelope(decoded as Envelope, 1024 * 1024)).toEqual({ ...plain, codec: undefined })
  })

  it('leaves values at or under the threshold, absent markers and incompressible data uncompressed, byte for byte as before', () => {
    const policy = { codec: 'gzip' as const, level: 6, overBytes: 4096 }
    const small = { ...plain, payload: 'x'.repeat(4096) }
    expect(compressEnvelope(small, policy)).toBe(small)
    // 1366 characters of three UTF-8 bytes each are 4098 bytes: over the threshold, compressed
    const wide = { ...plain, payload: '€'.repeat(1366) }
    expect(compressEnvelope(wide, policy).codec).toBe('gzip')
    const absent: Envelope = { ...plain, kind: 'n', payload: '' }
    expect(compressEnvelope(absent, { ...policy, overBytes: 0 })).toBe(absent)
    const random = { ...plain, payload: JSON.stringify(Buffer.from(crypto.getRandomValues(new Uint8Array(6000))).toString('base64')) }
    expect(compressEnvelope(random, policy)).toBe(random)
    expect(compressEnvelope(plain, null)).toBe(plain)
    expect(encodeEnvelope(compressEnvelope(small, policy))).toBe(encodeEnvelope(small))
  })

  it.each([
    ['a compressed marker with no payload', 'tc1|b|1000|2000|3000|0|0|'],
    ['an unknown codec letter', 'tc1|x|1000|2000|3000|0|0|AAAA'],
    ['a codec letter with a second letter', 'tc1|bv|1000|2000|3000|0|0|AAAA'],
  ])('rejects %s', (_, raw) => {
    expect(decodeEnvelope(raw)).toBeUndefined()
  })
})

describe('sizes', () => {
  it.each([
    [4096, 4096],
    ['512b', 512],
    ['4kb', 4096],
    ['4 KB', 4096],
    ['1.5mb', 1572864],
    [0, 0],
  ])('parses %s as %i bytes', (input, bytes) => {
    expect(tryParseByteSize(input)).toBe(bytes)
  })

  it.each([[-1], [1.5], ['4k'], ['4gb'], [''], [null], [Number.NaN]])('refuses %s', (input) => {
    expect(tryParseByteSize(input)).toBeUndefined()
  })
})

describe('the compress option', () => {
  function configErrorOf(compress: unknown): TierCacheError {
    try {
      createCache({ namespace: 'shop', entities: { product: { ttl: '10m', compress } } } as never)
    } catch (error) {
      return error as TierCacheError
    }
    throw new Error('expected createCache to throw')
  }

  it('accepts a threshold, a codec and a level, or false', () => {
    for (const compress of [false, {}, { over: '4kb' }, { over: 0, codec: 'gzip', level: 9 }, { codec: 'brotli', level: 0 }]) {
      expect(() => createCache({ namespace: 'shop', entities: { product: { ttl: '10m', compress } } } as never)).not.toThrow()
    }
  })

  it.each([
    [
      { over: '4 kilobytes' },
      `INVALID_CONFIG: options.entities.product.compress.over: expected a size (bytes as a whole number >= 0, or a string like '512b', '4kb', '1mb'), got "4 kilobytes"`,
    ],
    [
      { over: -1 },
      `INVALID_CONFIG: options.entities.product.compress.over: expected a size (bytes as a whole number >= 0, or a string like '512b', '4kb', '1mb'), got -1`,
    ],
    [{ codec: 'lz4' }, 'INVALID_CONFIG: options.entities.product.compress.codec: Invalid option: expected one of "brotli"|"gzip"|"zstd"'],
    [{ codec: 'gzip', level: 11 }, 'INVALID_CONFIG: options.entities.product.compress.level: expected a gzip level from 1 to 9, got 11'],
    [{ level: 12 }, 'INVALID_CONFIG: options.entities.product.compress.level: expected a brotli level from 0 to 11, got 12'],
    [{ ovr: '4kb' }, 'INVALID_CONFIG: options.entities.product.compress: unknown option "ovr"'],
    [true, 'INVALID_CONFIG: options.entities.product.compress: expected false or object, received boolean'],
  ])('refuses %j with an error naming the field', (compress, message) => {
    const error = configErrorOf(compress)
    expect(error.code).toBe('INVALID_CONFIG')
    expect(error.message).toBe(message)
  })

  it.skipIf(zstdAvailable())('refuses zstd at createCache on a Node without it, saying what to do', () => {
    expect(configErrorOf({ codec: 'zstd' }).message).toBe(
      `INVALID_CONFIG: options.entities.product.compress.codec: zstd needs Node 22.15+ (zlib.zstdCompressSync) and this is Node ${process.versions.node}; choose "brotli" or "gzip"`,
    )
  })

  it.runIf(zstdAvailable())('accepts zstd where the runtime has it, with its own level range', () => {
    expect(() =>
      createCache({ namespace: 'shop', entities: { product: { ttl: '10m', compress: { codec: 'zstd', level: 19 } } } }),
    ).not.toThrow()
    expect(configErrorOf({ codec: 'zstd', level: 23 }).message).toBe(
      'INVALID_CONFIG: options.entities.product.compress.level: expected a zstd level from 1 to 22, got 23',
    )
  })
})
