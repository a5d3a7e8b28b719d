/** Redis Cluster splits the key space into this many hash slots. */
export const CLUSTER_SLOTS = 16_384

// CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0), the checksum Redis Cluster uses.
const CRC16_TABLE = (() => {
  const table = new Uint16Array(256)
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
    table[byte] = crc
  }
  return table
})()

function crc16(bytes: Uint8Array, start: number, end: number): number {
  let crc = 0
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ (CRC16_TABLE[((crc >> 8) ^ (bytes[i] ?? 0)) & 0xff] ?? 0)
  return crc
}

/**
 * The Redis Cluster hash slot (0..16383) of a key, computed exactly as Redis does: CRC16 of the
 * key's UTF-8 bytes modulo 16384, where a key holding a non-empty hash tag (the bytes between
 * the first `{` and the first `}` after it) is hashed on the tag alone. `foo{}{bar}` has an
 * empty first tag and is hashed whole.
 */
export function keySlot(key: string | Uint8Array): number {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key
  let start = 0
  let end = bytes.length
  const open = bytes.indexOf(0x7b) // '{'
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1) // '}'
    if (close > open + 1) {
      start = open + 1
      end = close
    }
  }
  return crc16(bytes, start, end) % CLUSTER_SLOTS
}
