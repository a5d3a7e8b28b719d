import type { CompressionPolicy } from '../config/entity-policy.js'
import { compressText, decompressText } from '../util/compression.js'
import type { Envelope } from './envelope.js'

/**
 * The envelope to store for `envelope` under `policy`: its payload compressed (and the codec
 * marked) when the entity compresses, the value is over the threshold, and compression gains
 * something; otherwise `envelope` itself. Sizes are UTF-8 bytes of the serialized value.
 */
export function compressEnvelope(envelope: Envelope, policy: CompressionPolicy | null): Envelope {
  if (policy === null || envelope.kind !== 'v' || envelope.codec !== undefined) return envelope
  // UTF-8 takes at most three bytes per UTF-16 unit: most small values are found under the
  // threshold without counting their bytes.
  if (envelope.payload.length * 3 <= policy.overBytes || Buffer.byteLength(envelope.payload, 'utf8') <= policy.overBytes) {
    return envelope
  }
  const payload = compressText(envelope.payload, policy.codec, policy.level)
  // Incompressible data (already compressed, random tokens) would only grow by base64's third.
  if (payload.length >= envelope.payload.length) return envelope
  return { ...envelope, payload, codec: policy.codec }
}

/**
 * The envelope with its payload decompressed (`codec` cleared); `envelope` itself when it is not
 * compressed. Throws when the payload does not decompress (corrupt, truncated, a codec this
 * runtime lacks) or decompresses to more than `maxBytes`.
 */
export function decompressEnvelope(envelope: Envelope, maxBytes: number): Envelope {
  if (envelope.codec === undefined) return envelope
  return { ...envelope, payload: decompressText(envelope.payload, envelope.codec, maxBytes), codec: undefined }
}
