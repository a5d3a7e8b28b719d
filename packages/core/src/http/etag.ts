import { createHash } from 'node:crypto'

/**
 * A strong ETag of `body`: 162 bits of its SHA-256 in base64url, quoted. Equal bodies give equal
 * tags on every instance, so a validator a client got from one instance works on the others.
 */
export function strongEtag(body: Buffer): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`
}

/** True when `etag` is a well-formed strong entity tag (`"..."`, no `W/`). */
export function isStrongEtag(etag: string): boolean {
  return etag.length >= 2 && etag.startsWith('"') && etag.endsWith('"') && !etag.slice(1, -1).includes('"')
}

/**
 * Whether `If-None-Match` matches `etag` (RFC 9110 §13.1.2): `*` matches any current
 * representation, otherwise one of the listed tags must match by the weak comparison (the
 * opaque tags are equal, `W/` prefixes ignored).
 */
export function ifNoneMatchMatches(header: string | undefined, etag: string | null): boolean {
  if (header === undefined || etag === null) return false
  const wanted = opaque(etag)
  for (const part of header.split(',')) {
    const candidate = part.trim()
    if (candidate === '*') return true
    if (candidate !== '' && opaque(candidate) === wanted) return true
  }
  return false
}

function opaque(tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag
}
