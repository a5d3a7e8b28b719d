import * as zlib from 'node:zlib'

/**
 * The compression codecs of L2 payloads, all from Node's own `zlib` (no native dependency).
 * `zstd` exists only where the runtime has `zlib.zstdCompressSync` (Node 22.15+, 23.8+, 24);
 * see {@link zstdAvailable}.
 */
export type CompressionCodec = 'brotli' | 'gzip' | 'zstd'

/**
 * Each codec's accepted levels and its default. Brotli's own default (11) costs about 30 ms for
 * 20 KB of JSON on one core, far too slow on a read path; 5 costs about 0.2 ms there and keeps
 * most of the gain (apps/bench compression workload). gzip and zstd keep their libraries' defaults.
 */
export const COMPRESSION_LEVELS: Readonly<Record<CompressionCodec, { min: number; max: number; default: number }>> = {
  brotli: { min: 0, max: 11, default: 5 },
  gzip: { min: 1, max: 9, default: 6 },
  zstd: { min: 1, max: 22, default: 3 },
}

// zstd is read off the module at run time: @types/node 20 does not declare it, and the package
// must load on Node 20, where it is absent.
interface ZstdFunctions {
  zstdCompressSync(buffer: Buffer, options: { params: Record<number, number> }): Buffer
  zstdDecompressSync(buffer: Buffer, options: { maxOutputLength: number }): Buffer
}
const zstd = zlib as unknown as Partial<ZstdFunctions>
// Brotli has no checksum: a flipped bit may still inflate, so bytes that are not UTF-8 must fail
// here rather than turn into U+FFFD and a different value.
const UTF8 = new TextDecoder('utf-8', { fatal: true })
const ZSTD_LEVEL_PARAM = (zlib.constants as Record<string, number | undefined>).ZSTD_c_compressionLevel
// ZSTD_c_checksumFlag in zstd.h (a stable part of its API); Node's constants name it the same.
const ZSTD_CHECKSUM_PARAM = (zlib.constants as Record<string, number | undefined>).ZSTD_c_checksumFlag ?? 201

/** True when this runtime's `zlib` has zstd (Node 22.15+, 23.8+, 24). */
export function zstdAvailable(): boolean {
  return typeof zstd.zstdCompressSync === 'function' && typeof zstd.zstdDecompressSync === 'function' && ZSTD_LEVEL_PARAM !== undefined
}

/**
 * Compresses UTF-8 `text` and returns the bytes as base64 (for brotli and zstd, after 8 hex
 * digits of a CRC-32 of `text`'s bytes: see below). Base64 because the remote tier's
 * values are strings (`RemoteStore` moves strings, and both Redis clients decode replies as
 * UTF-8, which would mangle raw bytes); it costs a third on top of the compressed size, which
 * JSON's 5-8x gain pays many times over. Synchronous on purpose: at the default levels 20 KB
 * compresses in a fraction of a millisecond, less than a trip through the libuv pool would add.
 */
export function compressText(text: string, codec: CompressionCodec, level: number): string {
  const input = Buffer.from(text, 'utf8')
  let output: Buffer
  if (codec === 'brotli') {
    // A brotli stream has no checksum: a damaged one may still inflate, into other text. gzip
    // (its CRC-32 trailer) and zstd (the frame checksum turned on below) check themselves.
    const packed = zlib.brotliCompressSync(input, {
      params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: level,
        [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: input.length,
      },
    })
    return `${checksumOf(input)}${packed.toString('base64')}`
  } else if (codec === 'gzip') {
    output = zlib.gzipSync(input, { level })
  } else {
    output = zstdFunctions().zstdCompressSync(input, { params: { [ZSTD_LEVEL_PARAM as number]: level, [ZSTD_CHECKSUM_PARAM]: 1 } })
    // The frame checksum is not enough: Node 22's zstdDecompressSync returns what a truncated
    // frame held instead of throwing (Node 24's throws), so zstd carries the CRC-32 too.
    return `${checksumOf(input)}${output.toString('base64')}`
  }
  return output.toString('base64')
}

/**
 * Reverses {@link compressText}. Throws when `data` is not valid base64 of a complete stream of
 * `codec` (corrupt or truncated data), when the stream is not UTF-8 text, or when the runtime
 * has no zstd ({@link zstdAvailable}); `maxBytes` bounds the decompressed size, so a corrupt or
 * hostile entry cannot inflate into gigabytes.
 */
export function decompressText(data: string, codec: CompressionCodec, maxBytes: number): string {
  const summed = codec !== 'gzip'
  const checksum = summed ? data.slice(0, 8) : ''
  const base64 = summed ? data.slice(8) : data
  const input = Buffer.from(base64, 'base64')
  // Buffer.from skips characters that are not base64; re-encoding catches them, so a payload
  // altered by anything but whole base64 groups is corrupt rather than silently shortened.
  if (input.length === 0 || input.toString('base64') !== base64) throw new Error('the compressed payload is not base64')
  const options = { maxOutputLength: Math.max(1, maxBytes) }
  let output: Buffer
  if (codec === 'brotli') {
    output = zlib.brotliDecompressSync(input, options)
  } else if (codec === 'gzip') output = zlib.gunzipSync(input, options)
  else output = zstdFunctions().zstdDecompressSync(input, options)
  if (summed && checksumOf(output) !== checksum) throw new Error(`the ${codec} payload fails its checksum`)
  if (output.length > maxBytes) throw new Error(`the payload decompresses to over ${maxBytes} bytes`)
  return UTF8.decode(output)
}

function zstdFunctions(): ZstdFunctions {
  if (!zstdAvailable()) throw new Error(`zstd needs Node 22.15+ (zlib.zstdCompressSync); this is Node ${process.versions.node}`)
  return zstd as ZstdFunctions
}

// zlib.crc32 exists from Node 20.15 and 22.2; older 20.x releases get the table-driven loop below.
const nativeCrc32 = (zlib as unknown as { crc32?: (data: Uint8Array) => number }).crc32
let crcTable: Uint32Array | undefined

/** CRC-32 (the IEEE polynomial of gzip and zlib.crc32) of `data`, as an unsigned integer. */
function crc32(data: Uint8Array): number {
  return nativeCrc32 !== undefined ? nativeCrc32(data) : crc32ByTable(data)
}

/** {@link crc32} without `zlib.crc32`; exported for its test only. */
export function crc32ByTable(data: Uint8Array): number {
  crcTable ??= Uint32Array.from({ length: 256 }, (_, n) => {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    return c >>> 0
  })
  let crc = 0xffffffff
  for (const byte of data) crc = (crcTable[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}

/** The 8 hex digits of the CRC-32 of `bytes` that brotli and zstd payloads start with. */
function checksumOf(bytes: Uint8Array): string {
  return crc32(bytes).toString(16).padStart(8, '0')
}
