import type { Cluster, Redis } from 'ioredis'
import { asDataClient, type DataClient } from '../data-client.js'
import { defineScripts, SCRIPTS, type ScriptCommands } from '../lua-scripts.js'
import { resendRedirected } from '../redirections.js'

/** A script of {@link SCRIPTS} by name. */
export type ScriptName = keyof typeof SCRIPTS

/**
 * The commands a store sends on its client, each followed, when it comes back redirected, by the
 * same command on its own (see `resendRedirected`). One instance per store: locks, leases, tag
 * stamps and hot-key replicas all send through it, so they share the client's connections.
 */
export class RoutedCommands {
  /** The client's data commands, for a caller that handles redirections itself. */
  readonly data: DataClient
  private readonly scripts: ScriptCommands
  /** The cluster to resend redirected commands through; `undefined` for one primary (nothing redirects). */
  private readonly cluster: Cluster | undefined

  constructor(client: Redis | Cluster, cluster: boolean) {
    this.data = asDataClient(client)
    this.scripts = defineScripts(client)
    this.cluster = cluster ? (client as Cluster) : undefined
  }

  /** `SET key value PX ttlMs`. */
  set(key: string, value: string, ttlMs: number): Promise<'OK'> {
    return this.data.set(key, value, 'PX', ttlMs).catch((error: unknown) => this.redirected<'OK'>(error, 'set', [key, value, 'PX', ttlMs]))
  }

  /** Runs one of the store's Lua scripts; a redirected one is resent as EVAL of its source, so a node that lacks it needs nothing else. */
  script(name: ScriptName, args: (string | number)[]): Promise<unknown> {
    const run = this.scripts[name] as (...args: (string | number)[]) => Promise<unknown>
    return run.apply(this.scripts, args).catch((error: unknown) => {
      const script = SCRIPTS[name]
      return this.redirected(error, 'eval', [script.lua, script.numberOfKeys, ...args])
    })
  }

  /** Follows a redirection that the command's auto-pipelined batch did not; see `resendRedirected`. */
  redirected<T>(error: unknown, name: string, args: (string | number)[]): Promise<T> {
    return resendRedirected(this.cluster, error, name, args) as Promise<T>
  }
}
