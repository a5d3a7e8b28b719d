import { spawn } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { findFreeRedisPort } from './free-port.js'
import type { ProcessRegistry } from './process-registry.js'
import { requireRedisServer } from './redis-server-binary.js'
import { isRecordedRedis } from './registered-processes.js'
import { type RedisCommandOptions, type RespValue, redisCommand, redisPipeline } from './resp-client.js'
import { sleep, waitUntil } from './wait-until.js'

/** Cluster settings of a node started with `cluster-enabled yes`. */
export interface RedisNodeClusterOptions {
  /**
   * `cluster-node-timeout` in milliseconds: how long a node may be unreachable before the others
   * start a failover. Redis defaults to 15000; the testkit uses 1000 so failovers take seconds.
   */
  nodeTimeoutMs: number
  /** `cluster-require-full-coverage`; Redis's default `true` when omitted. */
  requireFullCoverage?: boolean
}

/**
 * TLS settings of a node: it accepts TLS on `port` besides its plain port, which stays open for
 * the testkit's own health checks (its RESP client speaks plain TCP).
 */
export interface RedisNodeTlsOptions {
  /** The TLS port (127.0.0.1 only). */
  port: number
  /** PEM files: the server's certificate and key, and the CA that client certificates must chain to. */
  certFile: string
  keyFile: string
  caCertFile: string
  /** Whether clients must present a certificate signed by the CA (`tls-auth-clients`). Default `false`. */
  authClients?: boolean
}

/** How to start a {@link RedisNode}. */
export interface RedisNodeOptions {
  /** The port to listen on (127.0.0.1 only). */
  port: number
  /** Start in cluster mode with these settings; omitted for a plain standalone node. */
  cluster?: RedisNodeClusterOptions
  /** Also accept TLS connections; omitted for plain TCP only. */
  tls?: RedisNodeTlsOptions
  /** Milliseconds to wait for the first PONG. Default 10000. */
  startTimeoutMs?: number
  /**
   * Start as a Sentinel (`redis-server <configFile> --sentinel`). The file must be writable:
   * Sentinel rewrites it with what it learns, so a restarted Sentinel remembers its state.
   */
  sentinel?: { configFile: string }
}

/** Where a node runs, for logs and for tests that need the raw process. */
export interface RedisNodeInfo {
  readonly host: string
  readonly port: number
  /** The current process id, `undefined` when the node is not running. */
  readonly pid: number | undefined
  /** The node's folder: redis.log, stderr.log, nodes.conf. */
  readonly dir: string
}

/** Raised when redis-server exits before answering PING; `portInUse` tells a caller to pick another port. */
export class RedisNodeStartError extends Error {
  override readonly name = 'RedisNodeStartError'
  constructor(
    message: string,
    /** `true` when the node could not bind its port or its cluster bus port. */
    readonly portInUse: boolean,
  ) {
    super(message)
  }
}

/** The node's state file: everything another process needs to restart it identically. */
interface NodeState {
  readonly port: number
  readonly pid: number | null
  readonly bin: string
  readonly args: readonly string[]
}

const STATE_FILE = 'node.json'
const HOST = '127.0.0.1'
const TERMINATING_SIGNALS: ReadonlySet<NodeJS.Signals> = new Set(['SIGKILL', 'SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP'])

/**
 * One `redis-server` process on 127.0.0.1:`port`, with its own folder in the run directory and no
 * persistence. Its state (pid, arguments) lives in a file in that folder, so any process attached
 * to the run — the global setup that started it or a test worker — can signal and restart it.
 */
export class RedisNode {
  /** Always 127.0.0.1: test nodes never listen on other interfaces. */
  readonly host = HOST
  /** The node's folder in the run directory. */
  readonly dir: string

  private constructor(
    private readonly registry: ProcessRegistry,
    /** The client port. */
    readonly port: number,
  ) {
    this.dir = registry.nodeDir(port)
  }

  /** Starts a node on `options.port` and resolves once it answers PING. */
  static async start(registry: ProcessRegistry, options: RedisNodeOptions): Promise<RedisNode> {
    const node = new RedisNode(registry, options.port)
    mkdirSync(node.dir, { recursive: true })
    node.writeState({ port: options.port, pid: null, bin: requireRedisServer(), args: redisServerArgs(node.dir, options) })
    await node.launch(options.startTimeoutMs ?? 10_000)
    return node
  }

  /**
   * Starts a node on a free port, picking another port when the chosen one is taken before
   * redis-server binds it (other test runs on the machine pick ports too). `exclude` holds ports
   * already used by the caller; the chosen port (and its bus port) is added to it.
   */
  static async startOnFreePort(
    registry: ProcessRegistry,
    options: Omit<RedisNodeOptions, 'port'>,
    exclude: Set<number> = new Set(),
  ): Promise<RedisNode> {
    for (let attempt = 1; ; attempt++) {
      const port = await findFreeRedisPort({ clusterBus: options.cluster !== undefined, exclude })
      exclude.add(port).add(port + 10_000)
      try {
        return await RedisNode.start(registry, { ...options, port })
      } catch (error) {
        if (!(error instanceof RedisNodeStartError && error.portInUse) || attempt >= 5) throw error
      }
    }
  }

  /** A handle on a node started earlier in the run, possibly by another process. */
  static attach(registry: ProcessRegistry, port: number): RedisNode {
    const node = new RedisNode(registry, port)
    if (!existsSync(join(node.dir, STATE_FILE))) throw new Error(`No testkit Redis node on port ${port} in ${registry.runDir}`)
    return node
  }

  /** The pid of the running process, `undefined` when it is not running (killed, crashed). */
  get pid(): number | undefined {
    const { pid } = this.readState()
    return pid !== null && isRecordedRedis({ pid, port: this.port }) ? pid : undefined
  }

  /** Where the node runs. */
  info(): RedisNodeInfo {
    return { host: this.host, port: this.port, pid: this.pid, dir: this.dir }
  }

  /** Sends one command on a fresh connection; see {@link redisCommand}. */
  command(args: readonly (string | number)[], options: RedisCommandOptions = {}): Promise<RespValue> {
    return redisCommand(this.port, args, { host: this.host, ...options })
  }

  /** Sends several commands on one fresh connection; see {@link redisPipeline}. */
  pipeline(commands: readonly (readonly (string | number)[])[], options: RedisCommandOptions = {}): Promise<RespValue[]> {
    return redisPipeline(this.port, commands, { host: this.host, ...options })
  }

  /** Resolves `true` when the node answers PING within `timeoutMs` (default 500); paused and dead nodes do not. */
  async isResponsive(timeoutMs = 500): Promise<boolean> {
    try {
      return (await this.command(['PING'], { timeoutMs })) === 'PONG'
    } catch {
      return false
    }
  }

  /**
   * Sends `signal` (default SIGKILL) to the process. For a signal that ends it, resolves once the
   * process is gone (its ports are then free); a paused node is continued after a catchable
   * signal so that it can act on it. Resolves at once when the node is not running.
   */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const pid = this.pid
    if (pid === undefined) return
    sendSignal(pid, signal)
    if (!TERMINATING_SIGNALS.has(signal)) return
    if (signal !== 'SIGKILL') sendSignal(pid, 'SIGCONT')
    await waitUntil(
      `redis-server ${this.host}:${this.port} (pid ${pid}) to exit after ${signal}`,
      async () => (this.pid === undefined ? { done: true, value: undefined } : { done: false, reason: 'still running' }),
      { timeoutMs: 10_000, intervalMs: 10 },
    )
  }

  /** Freezes the process (SIGSTOP): it keeps its sockets but answers nothing, like a hung host. */
  pause(): void {
    const pid = this.pid
    if (pid !== undefined) sendSignal(pid, 'SIGSTOP')
  }

  /** Continues a paused process (SIGCONT). */
  resume(): void {
    const pid = this.pid
    if (pid !== undefined) sendSignal(pid, 'SIGCONT')
  }

  /**
   * Starts the node again on the same port, in the same folder, with the same arguments (a
   * running process is killed first). A cluster node reads its nodes.conf and rejoins the cluster
   * under its old id. Resolves once it answers PING.
   */
  async restart(options: { startTimeoutMs?: number } = {}): Promise<void> {
    await this.kill('SIGKILL')
    const deadline = Date.now() + (options.startTimeoutMs ?? 10_000)
    for (;;) {
      try {
        return await this.launch(Math.max(deadline - Date.now(), 1_000))
      } catch (error) {
        // The port cannot change on restart; something else briefly holding it is worth a retry.
        if (!(error instanceof RedisNodeStartError && error.portInUse) || Date.now() >= deadline) throw error
        await sleep(200)
      }
    }
  }

  private async launch(timeoutMs: number): Promise<void> {
    const state = this.readState()
    const stderr = openSync(join(this.dir, 'stderr.log'), 'a')
    let exit: string | undefined
    let child: ReturnType<typeof spawn>
    try {
      // No pipes: a pipe would tie the node's life to this process's event loop, and nodes
      // started by a test worker must outlive the worker.
      child = spawn(state.bin, state.args, { cwd: this.dir, stdio: ['ignore', 'ignore', stderr] })
    } finally {
      closeSync(stderr)
    }
    child.once('error', (error) => {
      exit = error.message
    })
    child.once('exit', (code, signal) => {
      exit = signal === null ? `exit code ${code}` : `signal ${signal}`
    })
    child.unref()
    const pid = child.pid
    if (pid === undefined) {
      await sleep(0)
      throw new RedisNodeStartError(`Could not start ${state.bin}: ${exit ?? 'no pid'}`, false)
    }
    this.registry.register(pid, this.port)
    this.writeState({ ...state, pid })

    const deadline = Date.now() + timeoutMs
    for (;;) {
      if (exit !== undefined) {
        const log = this.logTail()
        throw new RedisNodeStartError(
          `redis-server on ${this.host}:${this.port} exited during start-up (${exit}). Log:\n${log}`,
          /Address already in use/i.test(log),
        )
      }
      if (await this.isResponsive(250)) return
      if (Date.now() >= deadline) {
        throw new RedisNodeStartError(
          `redis-server on ${this.host}:${this.port} did not answer PING within ${timeoutMs} ms. Log:\n${this.logTail()}`,
          false,
        )
      }
      await sleep(20)
    }
  }

  private logTail(): string {
    const lines = ['redis.log', 'stderr.log'].flatMap((file) => {
      try {
        return readFileSync(join(this.dir, file), 'utf8').trimEnd().split('\n').slice(-15)
      } catch {
        return []
      }
    })
    return lines.join('\n')
  }

  private readState(): NodeState {
    return JSON.parse(readFileSync(join(this.dir, STATE_FILE), 'utf8')) as NodeState
  }

  private writeState(state: NodeState): void {
    writeFileSync(join(this.dir, STATE_FILE), JSON.stringify(state))
  }
}

function sendSignal(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal)
  } catch (error) {
    // Gone between the liveness check and the signal: the caller's goal is met or moot.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error
  }
}

function redisServerArgs(dir: string, options: RedisNodeOptions): string[] {
  const args = [
    // The config file must come first; a Sentinel cannot run without one.
    ...(options.sentinel === undefined ? [] : [options.sentinel.configFile, '--sentinel']),
    '--port',
    String(options.port),
    '--bind',
    HOST,
    '--dir',
    dir,
    '--logfile',
    join(dir, 'redis.log'),
    '--daemonize',
    'no',
    // Tests own their data: nothing is written to disk, nothing survives a restart. A replica
    // still writes the RDB of each full sync to its dir and, unless told to delete it, loads that
    // file when restarted: a node killed and restarted would serve (once promoted) values deleted
    // since its last sync, as a production node configured so would.
    '--save',
    '',
    '--appendonly',
    'no',
    '--rdb-del-sync-files',
    'yes',
    // Redis waits 5 s by default before a diskless full sync to batch replicas; a restarted
    // replica would then take 5 s to catch up after every failover test.
    '--repl-diskless-sync-delay',
    '0',
    // A replica's offset only moves with writes or the master's replication PING (every 10 s by
    // default); until it moves, Redis 7 reports the replica as `loading` and leaves it out of
    // CLUSTER SLOTS, so clients and the health checks would not see it for up to 10 s.
    '--repl-ping-replica-period',
    '1',
  ]
  if (options.tls !== undefined) {
    args.push(
      '--tls-port',
      String(options.tls.port),
      '--tls-cert-file',
      options.tls.certFile,
      '--tls-key-file',
      options.tls.keyFile,
      '--tls-ca-cert-file',
      options.tls.caCertFile,
      '--tls-auth-clients',
      options.tls.authClients === true ? 'yes' : 'no',
    )
  }
  if (options.cluster !== undefined) {
    args.push(
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(dir, 'nodes.conf'),
      '--cluster-node-timeout',
      String(options.cluster.nodeTimeoutMs),
      // A replica whose link to its master is old would otherwise refuse to fail over; tests
      // kill masters at any moment and want the failover regardless.
      '--cluster-replica-validity-factor',
      '0',
      '--cluster-allow-reads-when-down',
      'no',
      '--cluster-require-full-coverage',
      options.cluster.requireFullCoverage === false ? 'no' : 'yes',
    )
  }
  return args
}
