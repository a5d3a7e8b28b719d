import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { findFreeRedisPort } from './free-port.js'
import { ProcessRegistry } from './process-registry.js'
import type { NodeAddress } from './redis-cluster-options.js'
import { RedisNode, type RedisNodeTlsOptions } from './redis-node.js'
import type { RedisCommandOptions, RespValue } from './resp-client.js'
import { readDescription, startWithRegistry } from './start-up.js'
import { waitUntil } from './wait-until.js'

/** How to start a {@link RedisStandalone}. */
export interface RedisStandaloneOptions {
  /** Milliseconds allowed for the node to start answering PING. Default 10000. */
  startTimeoutMs?: number
  /**
   * Also accept TLS, on a free port of its own ({@link RedisStandalone.tlsPort}), with these PEM
   * files; the plain port stays open. Redis must be built with TLS (Debian's and Homebrew's are).
   */
  tls?: Omit<RedisNodeTlsOptions, 'port'>
}

/** Everything needed to rebuild a {@link RedisStandalone} handle in another process; see `toJSON()`. */
export interface RedisStandaloneDescription {
  readonly kind: 'redis-standalone'
  /** The run directory holding the node's folder and state. */
  readonly runDir: string
  readonly host: string
  readonly port: number
  /** The TLS port, when the node was started with `tls`. */
  readonly tlsPort?: number
}

/**
 * One plain (non-cluster) `redis-server` on 127.0.0.1 with no persistence, for the standalone
 * flavour of the store and for tests that do not need slots. Same lifecycle as
 * {@link RedisCluster}: start, attach from another process, kill/pause/restart, flush, stop.
 */
export class RedisStandalone {
  /** Always 127.0.0.1. */
  readonly host = '127.0.0.1'
  private readonly node: RedisNode

  private constructor(
    private readonly registry: ProcessRegistry,
    private readonly description: RedisStandaloneDescription,
  ) {
    this.node = RedisNode.attach(registry, description.port)
  }

  /** Starts the node on a free loopback port; resolves once it answers PING. */
  static async start(options: RedisStandaloneOptions = {}): Promise<RedisStandalone> {
    return startWithRegistry(async (registry) => {
      const exclude = new Set<number>()
      const tlsPort = options.tls === undefined ? undefined : await findFreeRedisPort({ exclude })
      if (tlsPort !== undefined) exclude.add(tlsPort)
      const node = await RedisNode.startOnFreePort(
        registry,
        {
          startTimeoutMs: options.startTimeoutMs ?? 10_000,
          ...(options.tls === undefined || tlsPort === undefined ? {} : { tls: { ...options.tls, port: tlsPort } }),
        },
        exclude,
      )
      const standalone = new RedisStandalone(registry, {
        kind: 'redis-standalone',
        runDir: registry.runDir,
        host: node.host,
        port: node.port,
        ...(tlsPort === undefined ? {} : { tlsPort }),
      })
      writeFileSync(standalone.stateFile, JSON.stringify(standalone.description, null, 2))
      return standalone
    })
  }

  /** Rebuilds a handle from a {@link RedisStandaloneDescription} or the path of its state file. */
  static attach(description: RedisStandaloneDescription | string): RedisStandalone {
    const resolved = readDescription(description, 'redis-standalone', 'standalone Redis')
    return new RedisStandalone(ProcessRegistry.attach(resolved.runDir), resolved)
  }

  /** The client port. */
  get port(): number {
    return this.description.port
  }

  /** The TLS port, or `undefined` when the node was started without `tls`. */
  get tlsPort(): number | undefined {
    return this.description.tlsPort
  }

  /** `redis://127.0.0.1:<port>`, for clients that take a URL. */
  get url(): string {
    return `redis://${this.host}:${this.port}`
  }

  /** The current pid, `undefined` while the node is not running. */
  get pid(): number | undefined {
    return this.node.pid
  }

  /** The node's folder: redis.log, stderr.log. */
  get dir(): string {
    return this.node.dir
  }

  /** Path of a JSON file holding {@link toJSON}'s description, for `attach(path)` from scripts. */
  get stateFile(): string {
    return join(this.description.runDir, 'standalone.json')
  }

  /** The node's address as a one-element seed list, the same shape {@link RedisCluster.seeds} returns. */
  seeds(): NodeAddress[] {
    return [{ host: this.host, port: this.port }]
  }

  /** The plain-data description that {@link RedisStandalone.attach} takes. */
  toJSON(): RedisStandaloneDescription {
    return this.description
  }

  /** Sends one command on a fresh connection. */
  command(args: readonly (string | number)[], options: RedisCommandOptions = {}): Promise<RespValue> {
    return this.node.command(args, options)
  }

  /** Sends `signal` (default SIGKILL); for a signal that ends the process, waits until it is gone. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    return this.node.kill(signal)
  }

  /** Freezes the process (SIGSTOP): connections open but nothing is answered. */
  async pause(): Promise<void> {
    this.node.pause()
  }

  /** Continues a paused process (SIGCONT). */
  async resume(): Promise<void> {
    this.node.resume()
  }

  /** Starts the node again on the same port (killing it first if it runs); it comes back empty. */
  restart(): Promise<void> {
    return this.node.restart()
  }

  /** Resumes the node if it is paused, restarts it if it is dead, and waits until it answers PING. Default timeout 30 s. */
  async ensureHealthy(options: { timeoutMs?: number } = {}): Promise<void> {
    if (await this.node.isResponsive()) return
    if (this.node.pid !== undefined) this.node.resume()
    if (!(await this.node.isResponsive(1_000))) await this.node.restart()
    await waitUntil(
      `${this.host}:${this.port} to answer PING`,
      async () => ((await this.node.isResponsive()) ? { done: true, value: undefined } : { done: false, reason: 'no PONG' }),
      { timeoutMs: options.timeoutMs ?? 30_000 },
    )
  }

  /** Deletes every key (FLUSHALL). */
  async flushAll(): Promise<void> {
    await this.node.command(['FLUSHALL'], { timeoutMs: 10_000 })
  }

  /** Kills the process (by pid, SIGKILL) and removes its run directory. */
  async stop(): Promise<void> {
    await this.registry.stop()
  }
}
