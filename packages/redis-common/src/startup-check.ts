import { type ReadyCheck, TierCacheError } from '@tiercache/core'
import { messageOf } from './deployment/node-facts.js'

/** Pause between two probes while the backend answers but cannot serve yet (failover, CLUSTERDOWN), in ms. */
const PROBE_RETRY_MS = 100

// Replies that mean "this user may not": a wrong user or password, no AUTH where one is required,
// or ACL rights missing (Redis 6+; `ERR invalid password` is Redis 5's WRONGPASS). A command a
// script runs without the right fails the script with its own words (Redis 7.0).
const REFUSED_REPLY = /^(WRONGPASS|NOAUTH|NOPERM)\b|^ERR invalid (password|username-password)|^ERR The user executing the script can't run/
const ACL_REPLY = /^NOPERM\b|^ERR The user executing the script can't run/
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
 * The client side of the startup check: each store supplies it for its client library.
 */
export interface StartupClient {
  /**
   * Resolves once the client is ready; rejects with {@link refusal}'s `L2_AUTH` on a refusal,
   * {@link closedBeforeReady} when it ends, {@link unavailable} at `deadline` (ms since the epoch).
   */
  connected(deadline: number): Promise<void>
  /** The client was closed. */
  ended(): boolean
  /** `Redis at host:port`, or `the Redis cluster`, for messages. */
  describe(): string
}

/**
 * The startup check behind the stores' `ready()`: waits for the client to connect, then runs
 * the probes. A refusal (credentials, ACL rights, TLS) rejects at once with `L2_AUTH`, because
 * waiting does not fix it; anything else (refused connections, a failover, CLUSTERDOWN) is waited
 * out until `timeoutMs`, then rejects with `L2_UNAVAILABLE`.
 *
 * Errors are rebuilt from their message and code only: a client may attach the failed command and
 * its arguments to reply errors (ioredis does), and for AUTH or HELLO those hold the password.
 */
export async function runStartupCheck(client: StartupClient, probes: Probes, check: ReadyCheck = {}): Promise<void> {
  const deadline = check.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + check.timeoutMs
  for (;;) {
    await client.connected(deadline)
    try {
      if (check.probeKey !== undefined) await probes.keyed(check.probeKey)
      // Subscribing, not publishing: a probe message would reach every instance of the fleet.
      if (check.channel !== undefined) await probes.subscribe(check.channel)
      return
    } catch (error) {
      const refused = refusal(error, client.describe())
      if (refused !== undefined) throw refused
      if (client.ended()) throw closedBeforeReady()
      if (Date.now() >= deadline) throw unavailable(`the probe kept failing: ${messageOf(error)}`)
      await pause(PROBE_RETRY_MS)
    }
  }
}

/**
 * `L2_AUTH` for an error that means Redis (or TLS) refused this client for good, else `undefined`.
 */
export function refusal(error: unknown, who: string): TierCacheError | undefined {
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
  const hint = ACL_REPLY.test(message)
    ? 'the Redis user lacks a right the cache needs; see "ACL users" in the @tiercache/redis README for what to grant'
    : 'check username and password'
  return new TierCacheError('L2_AUTH', `${who} refused this client: ${message.replace(/\.$/, '')}; ${hint}`)
}

/** What a client library reports while {@link waitConnected} waits: each store wires its client's own events to these. */
export interface ConnectEvents {
  /** A connection error or a failed attempt; `address` (`host:port`) when one node is to blame. */
  failed(error: unknown, address?: string): void
  ready(): void
  /** The client (or the store) closed. */
  closed(): void
}

/**
 * The waiting half of {@link StartupClient.connected}, the same for every client library: resolves
 * on `ready`, rejects with {@link refusal}'s `L2_AUTH` on the first refusal, with
 * {@link closedBeforeReady} on `closed`, and with {@link unavailable} (naming the last error) at
 * `deadline` (ms since the epoch; `Infinity`: no limit). `watch` subscribes to the client's events
 * and returns what unsubscribes them; it is called once.
 */
export function waitConnected(deadline: number, who: () => string, watch: (events: ConnectEvents) => () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let last = 'no answer yet'
    let settled = false
    let unwatch: (() => void) | undefined
    const timer =
      deadline === Number.POSITIVE_INFINITY
        ? undefined
        : setTimeout(() => settle(unavailable(`not connected within the timeout; last error: ${last}`)), Math.max(0, deadline - Date.now()))
    // A check still waiting must not keep an otherwise idle process alive.
    timer?.unref()
    const settle = (error?: TierCacheError) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      unwatch?.()
      if (error === undefined) resolve()
      else reject(error)
    }
    unwatch = watch({
      failed: (error, address) => {
        const refused = refusal(error, address === undefined ? who() : `Redis at ${address}`)
        if (refused !== undefined) settle(refused)
        else last = messageOf(error)
      },
      ready: () => settle(),
      closed: () => settle(closedBeforeReady()),
    })
    // An event the client emitted while being watched settled the wait before `unwatch` existed.
    if (settled) unwatch()
  })
}

/** `L2_UNAVAILABLE`: the store was closed before it was ready. */
export function closedBeforeReady(): TierCacheError {
  return new TierCacheError('L2_UNAVAILABLE', 'the store was closed before it was ready')
}

/** `L2_UNAVAILABLE` saying why Redis is not ready. */
export function unavailable(why: string): TierCacheError {
  return new TierCacheError('L2_UNAVAILABLE', `Redis is not ready: ${why}`)
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}
