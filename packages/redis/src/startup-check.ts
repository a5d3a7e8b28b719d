import { type ReadyCheck, TierCacheError } from '@tiercache/core'
import type { Cluster, Redis } from 'ioredis'

/** Pause between two probes while the backend answers but cannot serve yet (failover, CLUSTERDOWN), in ms. */
const PROBE_RETRY_MS = 100

// Replies that mean "this user may not": a wrong user or password, no AUTH where one is required,
// or ACL rights missing (Redis 6+; `ERR invalid password` is Redis 5's WRONGPASS).
const REFUSED_REPLY = /^(WRONGPASS|NOAUTH|NOPERM)\b|^ERR invalid (password|username-password)/
// Node's TLS failures: OpenSSL verification codes (SELF_SIGNED_CERT_IN_CHAIN, CERT_HAS_EXPIRED,
// UNABLE_TO_VERIFY_LEAF_SIGNATURE, ...), host name mismatches, and handshake alerts
// (ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED when the server wants a client certificate).
const TLS_CODE = /CERT|CRL|^UNABLE_TO_|^INVALID_(CA|PURPOSE)$|^PATH_LENGTH_EXCEEDED$|^HOSTNAME_MISMATCH$|^ERR_(TLS|SSL|OSSL)_/

/** What the check sends once connected; the store supplies it so the probe runs its real commands. */
export interface Probes {
  /** Runs every keyed command the store sends, on `key`, and leaves nothing behind. */
  keyed(key: string): Promise<void>
  /** Subscribes to `channel` the way the bus does (sharing the bus' connection), then leaves it. */
  subscribe(channel: string): Promise<void>
}

/**
 * The startup check behind `RedisRemoteStore.ready`: waits for the client to connect, then runs
 * the probes. A refusal (credentials, ACL rights, TLS) rejects at once with `L2_AUTH`, because
 * waiting does not fix it; anything else (refused connections, a failover, CLUSTERDOWN) is waited
 * out until `timeoutMs`, then rejects with `L2_UNAVAILABLE`.
 *
 * Errors are rebuilt from their message and code only: ioredis attaches the failed command and
 * its arguments to reply errors, and for AUTH or HELLO those arguments hold the password.
 */
export async function runStartupCheck(client: Redis | Cluster, probes: Probes, check: ReadyCheck = {}): Promise<void> {
  const deadline = check.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + check.timeoutMs
  for (;;) {
    await connected(client, deadline)
    try {
      if (check.probeKey !== undefined) await probes.keyed(check.probeKey)
      // Subscribing, not publishing: a probe message would reach every instance of the fleet.
      if (check.channel !== undefined) await probes.subscribe(check.channel)
      return
    } catch (error) {
      const refused = refusal(error, describeClient(client))
      if (refused !== undefined) throw refused
      if (client.status === 'end') throw closed()
      if (Date.now() >= deadline) throw unavailable(`the probe kept failing: ${messageOf(error)}`)
      await pause(PROBE_RETRY_MS)
    }
  }
}

/** Resolves once the client is ready; rejects on a refusal, when it ends, or at `deadline`. */
function connected(client: Redis | Cluster, deadline: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve()
  if (client.status === 'end') return Promise.reject(closed())
  if (client.status === 'wait') client.connect().catch(() => {})
  return new Promise((resolve, reject) => {
    let last = 'no answer yet'
    const onError = (error: unknown, address?: string) => {
      // A cluster reports "Failed to refresh slots cache" with the node's own error inside.
      const cause = (error as { lastNodeError?: unknown }).lastNodeError ?? error
      const refused = refusal(cause, address === undefined ? describeClient(client) : `Redis at ${address}`)
      if (refused !== undefined) settle(refused)
      else last = messageOf(cause)
    }
    const onNodeError = (error: unknown, address: string) => onError(error, address)
    const onReady = () => settle()
    const onEnd = () => settle(closed())
    const timer =
      deadline === Number.POSITIVE_INFINITY
        ? undefined
        : setTimeout(() => settle(unavailable(`not connected within the timeout; last error: ${last}`)), Math.max(0, deadline - Date.now()))
    // A check still waiting must not keep an otherwise idle process alive.
    timer?.unref()
    const settle = (error?: TierCacheError) => {
      clearTimeout(timer)
      client.off('error', onError)
      client.off('node error', onNodeError)
      client.off('ready', onReady)
      client.off('end', onEnd)
      if (error === undefined) resolve()
      else reject(error)
    }
    client.on('error', onError)
    client.on('node error', onNodeError)
    client.once('ready', onReady)
    client.once('end', onEnd)
  })
}

/** `L2_AUTH` for an error that means Redis (or TLS) refused this client for good, else `undefined`. */
function refusal(error: unknown, who: string): TierCacheError | undefined {
  const message = messageOf(error)
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string' && TLS_CODE.test(code)) {
    // OpenSSL's own errors carry a readable `reason`; their message is a dump of internals.
    const reason = (error as { reason?: unknown }).reason
    return new TierCacheError(
      'L2_AUTH',
      `TLS with ${who} failed: ${typeof reason === 'string' ? reason : message} (${code}). Check tls.ca (the CA that signed the server's certificate), the server name, and the client certificate if the server asks for one`,
    )
  }
  if (!REFUSED_REPLY.test(message)) return undefined
  const hint = message.startsWith('NOPERM')
    ? 'the Redis user lacks a right the cache needs; see "ACL users" in the @tiercache/redis README for what to grant'
    : 'check username and password'
  return new TierCacheError('L2_AUTH', `${who} refused this client: ${message.replace(/\.$/, '')}; ${hint}`)
}

/** `Redis at host:port` for a standalone client, `the Redis cluster` when no single node is known. */
function describeClient(client: Redis | Cluster): string {
  const options = (client as { options?: { host?: unknown; port?: unknown } }).options
  return typeof options?.host === 'string' && typeof options.port === 'number'
    ? `Redis at ${options.host}:${options.port}`
    : 'the Redis cluster'
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function closed(): TierCacheError {
  return new TierCacheError('L2_UNAVAILABLE', 'the store was closed before it was ready')
}

function unavailable(why: string): TierCacheError {
  return new TierCacheError('L2_UNAVAILABLE', `Redis is not ready: ${why}`)
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}
