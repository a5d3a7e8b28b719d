import type { NodeCaller } from '@tiercache/redis-common'
import { Redis } from 'ioredis'

/** Credentials and transport of short-lived node connections. */
export interface NodeAuth {
  username?: string | undefined
  password?: string | undefined
  /** Connect with TLS: `true` for the system CAs, or ioredis/Node `tls` options (`ca`, `cert`, ...). */
  tls?: boolean | Record<string, unknown> | undefined
  /** Password of the Sentinels, when they have one of their own. */
  sentinelPassword?: string | undefined
}

/**
 * Short-lived connections for inspecting a deployment (the doctor, and a store whose cluster
 * client cannot get ready): one non-retrying connection per node asked, opened on first use and
 * all closed by `close()`. They never reconnect or queue: a node that does not answer within
 * `timeoutMs` is reported, not waited for.
 */
export class NodeConnections {
  private readonly open = new Map<string, Redis>()
  private readonly lastErrors = new WeakMap<Redis, string>()

  constructor(
    private readonly auth: NodeAuth,
    private readonly timeoutMs: number,
  ) {}

  /** A data node (primary, replica, cluster node). */
  node(address: string): NodeCaller {
    return this.caller(address, this.auth.username, this.auth.password)
  }

  /** A Sentinel: its own password, if any, and no user. */
  sentinel(address: string): NodeCaller {
    return this.caller(address, undefined, this.auth.sentinelPassword)
  }

  close(): void {
    for (const client of this.open.values()) client.disconnect()
    this.open.clear()
  }

  private caller(address: string, username: string | undefined, password: string | undefined): NodeCaller {
    const key = `${address}|${username ?? ''}|${password === undefined ? '' : 'p'}`
    let client = this.open.get(key)
    if (client === undefined) {
      const { host, port } = parseAddress(address)
      client = new Redis({
        host,
        port,
        ...(username === undefined ? {} : { username }),
        ...(password === undefined ? {} : { password }),
        ...(this.auth.tls === true ? { tls: { servername: host } } : typeof this.auth.tls === 'object' ? { tls: this.auth.tls } : {}),
        lazyConnect: true,
        connectTimeout: this.timeoutMs,
        commandTimeout: this.timeoutMs,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        enableReadyCheck: false,
        connectionName: 'tiercache:doctor',
      })
      const opened = client
      // A failed connect rejects commands with "Connection is closed."; the cause comes as an event.
      opened.on('error', (error: Error) => this.lastErrors.set(opened, error.message))
      this.open.set(key, client)
    }
    const connection = client
    return {
      address,
      call: async (...args) => {
        try {
          return await connection.call(...(args as [string, ...(string | number)[]]))
        } catch (error) {
          const cause = this.lastErrors.get(connection)
          if (cause !== undefined && error instanceof Error && /Connection is closed|Stream isn't writeable/.test(error.message)) {
            throw new Error(cause)
          }
          throw error
        }
      },
    }
  }
}

/** `host:port` (IPv6 hosts in brackets or not) to its parts; throws on anything else. */
export function parseAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':')
  const port = Number(address.slice(colon + 1))
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1')
  if (colon <= 0 || !Number.isInteger(port) || port < 1 || port > 65_535 || host === '') {
    throw new Error(`not a host:port address: "${address}"`)
  }
  return { host, port }
}
