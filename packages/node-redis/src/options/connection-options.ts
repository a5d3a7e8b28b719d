import type { ConnectionOptions as TlsOptions } from 'node:tls'
import { z } from 'zod'

/** Credentials and transport every store that connects by itself accepts. */
export interface NodeRedisAuthOptions {
  /** ACL user (Redis >= 6). Default: `default`. */
  username?: string | undefined
  /** Password of `username` (or of `requirepass`). */
  password?: string | undefined
  /** TLS: `true` for the system's CAs, or Node `tls` options (`ca`, `cert`, `key`, `servername`, ...). Default: off. */
  tls?: boolean | TlsOptions | undefined
}

/**
 * Defaults chosen for a cache, applied to every connection the store creates.
 *
 * - `disableOfflineQueue: true`: while a connection is down, a command fails at once instead of
 *   waiting in node-redis' queue to be replayed when Redis returns; the store itself waits for
 *   the client's first connection attempt, so commands right after creation do not fail.
 * - `name: 'tiercache'`: operators can tell the store's connections apart in `CLIENT LIST`.
 */
export const DEFAULT_NODE_REDIS_CLIENT_OPTIONS = { disableOfflineQueue: true, name: 'tiercache' } as const

export const authSchema = {
  username: z.string().optional(),
  password: z.string().optional(),
  tls: z.union([z.boolean(), z.looseObject({})]).optional(),
}

/** node-redis client options (`socket`, `database`, ...) from the store's auth options, over `base`. */
export function clientOptionsOf(
  auth: NodeRedisAuthOptions,
  base: Record<string, unknown> | undefined,
  address?: { host: string; port: number },
): Record<string, unknown> {
  const baseSocket = (base?.socket as Record<string, unknown> | undefined) ?? {}
  const tls = auth.tls === undefined || auth.tls === false ? {} : { tls: true, ...(auth.tls === true ? {} : auth.tls) }
  return {
    ...DEFAULT_NODE_REDIS_CLIENT_OPTIONS,
    ...(base ?? {}),
    ...(auth.username === undefined ? {} : { username: auth.username }),
    ...(auth.password === undefined ? {} : { password: auth.password }),
    socket: { ...baseSocket, ...(address ?? {}), ...tls },
  }
}

/** `host:port` (or `redis://host:port`) as an address. */
export function parseNodeAddress(node: string | { host: string; port: number }): { host: string; port: number } {
  if (typeof node === 'object') return node
  const url = /^rediss?:\/\//.test(node) ? new URL(node) : new URL(`redis://${node}`)
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port === '' ? 6379 : Number(url.port) }
}

export const nodeAddressSchema = z.union([
  z.string().regex(/^(rediss?:\/\/)?[^\s:/]+:\d+\/?$/, { error: 'expected "host:port"' }),
  z.strictObject({ host: z.string().min(1), port: z.int().min(1).max(65535) }),
])
