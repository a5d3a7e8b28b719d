import { parseAddress } from '../deployment/node-connections.js'

/**
 * The flags every `tiercache` command that talks to Redis takes, in `node:util` `parseArgs` form:
 * where the deployment is (`--nodes`, `--sentinels` + `--name`, or `--url`), how to log in
 * (`--username`, `--password` or `REDIS_PASSWORD`, `--sentinel-password`, `--tls`) and how long
 * to wait for it (`--timeout`, ms, default 2000).
 */
export const CONNECTION_FLAGS = {
  nodes: { type: 'string' },
  sentinels: { type: 'string' },
  name: { type: 'string' },
  url: { type: 'string' },
  username: { type: 'string' },
  password: { type: 'string' },
  'sentinel-password': { type: 'string' },
  tls: { type: 'boolean' },
  timeout: { type: 'string' },
} as const

/** The usage lines of {@link CONNECTION_FLAGS}, shared by every command's `--help`. */
export const CONNECTION_USAGE = `Where (one of):
  --nodes host:port[,host:port...]      cluster seed nodes, or a standalone server
  --sentinels host:port[,...] --name N  Sentinels and the name they monitor the primary under
  --url redis[s]://[user:pass@]host:port  one node (TLS with rediss://)

Connection:
  --username U, --password P   ACL user and password (or REDIS_PASSWORD in the environment)
  --sentinel-password P        password of the Sentinels, if they have their own
  --tls                        connect with TLS
  --timeout MS                 connect and per-command timeout (default 2000)`

/** A deployment to connect to, with credentials, as the connection flags gave it. */
export interface ConnectionTarget {
  /** Seed nodes (`host:port`) of a cluster or a standalone server; set unless `sentinels` is. */
  nodes: string[] | undefined
  /** Sentinels (`host:port`) and the primary's name; set together. */
  sentinels: string[] | undefined
  name: string | undefined
  username: string | undefined
  password: string | undefined
  sentinelPassword: string | undefined
  tls: boolean
  /** Connect and per-command timeout, ms. */
  timeoutMs: number
}

/** A command line the command cannot run with (exit status 2, with the command's usage). */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/**
 * A {@link UsageError} from an error the core threw for a flag's value (`INVALID_KEY`,
 * `INVALID_CONFIG`): its words without the code, which a person at a shell does not need.
 */
export function flagError(prefix: string, error: unknown): UsageError {
  const message = error instanceof Error ? error.message.replace(/^[A-Z0-9_]+: /, '') : String(error)
  return new UsageError(`${prefix}${message}`)
}

type ConnectionValues = { [K in keyof typeof CONNECTION_FLAGS]?: (typeof CONNECTION_FLAGS)[K]['type'] extends 'boolean' ? boolean : string }

/**
 * Reads the connection flags into a target. Throws {@link UsageError} when none or several of
 * `--nodes`/`--sentinels`/`--url` are given, for `--sentinels` without `--name`, for an address
 * that is not `host:port` and for a `--url` that is not `redis://` or `rediss://`.
 */
export function connectionTarget(values: ConnectionValues, env: NodeJS.ProcessEnv): ConnectionTarget {
  let nodes = list(values.nodes)
  const sentinels = list(values.sentinels)
  let username = values.username
  let password = values.password ?? env.REDIS_PASSWORD
  let tls = values.tls === true
  if (values.url !== undefined) {
    if (nodes !== undefined) throw new UsageError('give one of --nodes, --sentinels or --url')
    let url: URL
    try {
      url = new URL(values.url)
    } catch {
      throw new UsageError(`--url must be a redis:// or rediss:// URL, got "${values.url}"`)
    }
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new UsageError('--url must be a redis:// or rediss:// URL')
    nodes = [`${url.hostname}:${url.port === '' ? 6379 : url.port}`]
    if (url.username !== '') username = decodeURIComponent(url.username)
    if (url.password !== '') password = decodeURIComponent(url.password)
    tls ||= url.protocol === 'rediss:'
  }
  if ([nodes, sentinels].filter((given) => given !== undefined).length !== 1)
    throw new UsageError('give one of --nodes, --sentinels or --url')
  if (sentinels !== undefined && values.name === undefined) {
    throw new UsageError('--sentinels needs --name (the name the Sentinels monitor the primary under)')
  }
  for (const address of [...(nodes ?? []), ...(sentinels ?? [])]) {
    try {
      parseAddress(address)
    } catch (error) {
      throw new UsageError((error as Error).message)
    }
  }
  return {
    nodes,
    sentinels,
    name: values.name,
    username,
    password,
    sentinelPassword: values['sentinel-password'],
    tls,
    timeoutMs: values.timeout === undefined ? 2_000 : positiveInteger('--timeout', values.timeout),
  }
}

/** Parses a flag that must be a positive integer; throws {@link UsageError} otherwise. */
export function positiveInteger(flag: string, text: string): number {
  const value = Number(text)
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`${flag} must be a positive integer, got "${text}"`)
  return value
}

function list(text: string | undefined): string[] | undefined {
  return text
    ?.split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
}
