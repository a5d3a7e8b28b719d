import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseInfo } from './cluster-topology.js'
import type { ProcessRegistry } from './process-registry.js'
import type { NodeAddress, WaitOptions } from './redis-cluster-options.js'
import { RedisNode } from './redis-node.js'
import { type RedisCommandOptions, type RespValue, redisCommand } from './resp-client.js'
import { requireCount, startWithRegistry } from './start-up.js'
import { type ProbeResult, waitUntil } from './wait-until.js'

/** How to start a {@link RedisSentinelGroup}. */
export interface RedisSentinelGroupOptions {
  /** Replicas of the primary. Default 2. */
  replicas?: number
  /** Sentinel processes; the quorum is a majority of them. Default 3. */
  sentinels?: number
  /** The name the Sentinels monitor the primary under (ioredis `name`). Default `'mymaster'`. */
  masterName?: string
  /**
   * Sentinel `down-after-milliseconds`: how long the primary may be unreachable before a Sentinel
   * calls it down. Default 1000 (Redis's own default is 30000).
   */
  downAfterMs?: number
  /** Sentinel `failover-timeout` in milliseconds. Default 3000 (Redis's own default is 180000). */
  failoverTimeoutMs?: number
  /** Milliseconds allowed for starting every process and for the Sentinels to agree. Default 60000. */
  startTimeoutMs?: number
}

/** The defaults of {@link RedisSentinelGroupOptions}. */
export const DEFAULT_REDIS_SENTINEL_GROUP_OPTIONS: Readonly<Required<RedisSentinelGroupOptions>> = Object.freeze({
  replicas: 2,
  sentinels: 3,
  masterName: 'mymaster',
  downAfterMs: 1_000,
  failoverTimeoutMs: 3_000,
  startTimeoutMs: 60_000,
})

const HOST = '127.0.0.1'
// A process that takes longer than this to answer a probe is treated as down (killed or paused).
const PROBE_TIMEOUT_MS = 1_000

/**
 * A primary, its replicas and the Sentinels that watch them, all `redis-server` processes on
 * 127.0.0.1 (Sentinels run as `redis-server <conf> --sentinel`), for tests of the Sentinel
 * flavour of a store and of failovers.
 *
 * Unlike the run's shared cluster, a group is started by the test file that needs it
 * (`beforeAll`) and stopped by it (`afterAll`); its processes are recorded in their own run
 * directory, so a crashed worker leaves nothing behind (the registry's exit hooks and reaper
 * kill them). Questions about the topology (`primary()`, `replicas()`) are answered live by the
 * Sentinels and the nodes, so they stay right after a failover.
 */
export class RedisSentinelGroup {
  /** Always 127.0.0.1. */
  readonly host = HOST

  private constructor(
    private readonly registry: ProcessRegistry,
    private readonly dataNodes: readonly RedisNode[],
    private readonly sentinelNodes: readonly RedisNode[],
    /** The name the Sentinels monitor the primary under. */
    readonly masterName: string,
  ) {}

  /**
   * Starts a primary and its replicas, waits until every replica is in sync, then starts the
   * Sentinels and resolves once each of them knows the primary, every replica and every other
   * Sentinel (the state a failover needs). On failure every started process is killed first.
   */
  static async start(options: RedisSentinelGroupOptions = {}): Promise<RedisSentinelGroup> {
    const config = { ...DEFAULT_REDIS_SENTINEL_GROUP_OPTIONS, ...options }
    requireCount('replicas', config.replicas, 0)
    requireCount('sentinels', config.sentinels, 1)
    const deadline = Date.now() + config.startTimeoutMs
    const remaining = () => Math.max(1_000, deadline - Date.now())
    return startWithRegistry(async (registry) => {
      const exclude = new Set<number>()
      const dataNodes = await Promise.all(
        Array.from({ length: 1 + config.replicas }, () =>
          RedisNode.startOnFreePort(registry, { startTimeoutMs: config.startTimeoutMs }, exclude),
        ),
      )
      const [primary, ...replicas] = dataNodes as [RedisNode, ...RedisNode[]]
      await Promise.all(replicas.map((replica) => replica.command(['REPLICAOF', HOST, primary.port])))
      await waitUntil(
        `the replicas of ${HOST}:${primary.port} to be in sync`,
        async () => {
          const info = parseInfo(String(await primary.command(['INFO', 'replication'], { timeoutMs: PROBE_TIMEOUT_MS })))
          const online = [...info.entries()].filter(([key, value]) => /^slave\d+$/.test(key) && value.includes('state=online')).length
          return online === replicas.length
            ? { done: true, value: undefined }
            : { done: false, reason: `${online} of ${replicas.length} online` }
        },
        { timeoutMs: remaining() },
      )
      const quorum = Math.floor(config.sentinels / 2) + 1
      const sentinelNodes = await Promise.all(
        Array.from({ length: config.sentinels }, (_, index) => {
          const configFile = join(registry.runDir, `sentinel-${index}.conf`)
          writeFileSync(
            configFile,
            [
              `sentinel monitor ${config.masterName} ${HOST} ${primary.port} ${quorum}`,
              `sentinel down-after-milliseconds ${config.masterName} ${config.downAfterMs}`,
              `sentinel failover-timeout ${config.masterName} ${config.failoverTimeoutMs}`,
              `sentinel parallel-syncs ${config.masterName} ${Math.max(1, config.replicas)}`,
              '',
            ].join('\n'),
          )
          return RedisNode.startOnFreePort(registry, { startTimeoutMs: config.startTimeoutMs, sentinel: { configFile } }, exclude)
        }),
      )
      const group = new RedisSentinelGroup(registry, dataNodes, sentinelNodes, config.masterName)
      await group.waitForAgreement(primary.port, config.replicas, remaining())
      return group
    })
  }

  /** The Sentinels' addresses, for ioredis `sentinels`. Dead ones included; clients skip them. */
  sentinels(): NodeAddress[] {
    return this.sentinelNodes.map((node) => ({ host: node.host, port: node.port }))
  }

  /** Client ports of the primary and replicas, in start order (the first started as primary). */
  get dataPorts(): number[] {
    return this.dataNodes.map((node) => node.port)
  }

  /** Client ports of the Sentinels. */
  get sentinelPorts(): number[] {
    return this.sentinelNodes.map((node) => node.port)
  }

  /** The primary as the Sentinels see it now (the first Sentinel that answers). */
  async primary(): Promise<NodeAddress> {
    for (const sentinel of this.sentinelNodes) {
      try {
        return toAddress(await sentinel.command(['SENTINEL', 'get-master-addr-by-name', this.masterName], { timeoutMs: PROBE_TIMEOUT_MS }))
      } catch {
        // Killed or paused: ask the next one.
      }
    }
    throw new Error(`No Sentinel of ${this.masterName} answers`)
  }

  /** The data nodes that answer and report `role:slave` now. */
  async replicas(): Promise<NodeAddress[]> {
    const roles = await Promise.all(this.dataNodes.map(async (node) => ({ node, role: await roleOf(node) })))
    return roles.filter(({ role }) => role === 'slave').map(({ node }) => ({ host: node.host, port: node.port }))
  }

  /** Sends one command to the process on `port` (a data node or a Sentinel), on a fresh connection. */
  command(port: number, args: readonly (string | number)[], options: RedisCommandOptions = {}): Promise<RespValue> {
    return redisCommand(port, args, { host: HOST, ...options })
  }

  /** Sends `signal` (default SIGKILL) to the process on `port`; for a signal that ends it, waits until it is gone. */
  kill(port: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    return this.node(port).kill(signal)
  }

  /**
   * Starts the process on `port` again. A data node comes back empty, as a primary; the
   * Sentinels turn an old primary into a replica of the new one within a few seconds.
   */
  restart(port: number): Promise<void> {
    return this.node(port).restart()
  }

  /**
   * Waits until every Sentinel that answers names a primary other than `oldPrimaryPort`, and
   * that node answers as `role:master`. Resolves with its address.
   */
  waitForFailover(oldPrimaryPort: number, options: WaitOptions = {}): Promise<NodeAddress> {
    return waitUntil(
      `the Sentinels of ${this.masterName} to promote a replica in place of ${HOST}:${oldPrimaryPort}`,
      async (): Promise<ProbeResult<NodeAddress>> => {
        const named = await this.namedPrimaries()
        if (named.length === 0) return { done: false, reason: 'no Sentinel answers' }
        const ports = new Set(named.map((address) => address.port))
        const [first] = named
        if (ports.size !== 1 || first === undefined) return { done: false, reason: `Sentinels disagree: ${[...ports].join(', ')}` }
        if (first.port === oldPrimaryPort) return { done: false, reason: 'the Sentinels still name the old primary' }
        const role = await roleOf(this.node(first.port))
        return role === 'master' ? { done: true, value: first } : { done: false, reason: `${first.port} answers role ${role}` }
      },
      { timeoutMs: options.timeoutMs ?? 30_000, intervalMs: 50 },
    )
  }

  /** Kills every process (by pid, SIGKILL) and removes the run directory. */
  async stop(): Promise<void> {
    await this.registry.stop()
  }

  private node(port: number): RedisNode {
    const node = [...this.dataNodes, ...this.sentinelNodes].find((candidate) => candidate.port === port)
    if (node === undefined) throw new Error(`No process of this Sentinel group listens on ${port}`)
    return node
  }

  private async namedPrimaries(): Promise<NodeAddress[]> {
    const named = await Promise.all(
      this.sentinelNodes.map(async (sentinel) => {
        try {
          return toAddress(
            await sentinel.command(['SENTINEL', 'get-master-addr-by-name', this.masterName], { timeoutMs: PROBE_TIMEOUT_MS }),
          )
        } catch {
          return undefined
        }
      }),
    )
    return named.filter((address): address is NodeAddress => address !== undefined)
  }

  /** Until each Sentinel knows the primary on `primaryPort`, `replicas` replicas and every other Sentinel. */
  private waitForAgreement(primaryPort: number, replicas: number, timeoutMs: number): Promise<void> {
    const others = this.sentinelNodes.length - 1
    return waitUntil(
      `the Sentinels of ${this.masterName} to know the primary, ${replicas} replicas and ${others} other Sentinels`,
      async () => {
        for (const sentinel of this.sentinelNodes) {
          const master = pairs(await sentinel.command(['SENTINEL', 'master', this.masterName], { timeoutMs: PROBE_TIMEOUT_MS }))
          const state = `Sentinel ${sentinel.port}: port ${master.get('port')}, ${master.get('num-slaves')} replicas, ${master.get('num-other-sentinels')} other Sentinels, flags ${master.get('flags')}`
          if (
            master.get('port') !== String(primaryPort) ||
            master.get('flags') !== 'master' ||
            Number(master.get('num-slaves')) < replicas ||
            Number(master.get('num-other-sentinels')) < others
          ) {
            return { done: false, reason: state }
          }
        }
        return { done: true, value: undefined }
      },
      { timeoutMs, intervalMs: 100 },
    )
  }
}

async function roleOf(node: RedisNode): Promise<string> {
  try {
    const info = parseInfo(String(await node.command(['INFO', 'replication'], { timeoutMs: PROBE_TIMEOUT_MS })))
    return info.get('role') ?? 'unknown'
  } catch {
    return 'down'
  }
}

function toAddress(reply: RespValue): NodeAddress {
  if (!Array.isArray(reply) || reply.length < 2) throw new Error(`unexpected Sentinel reply ${JSON.stringify(reply)}`)
  return { host: String(reply[0]), port: Number(reply[1]) }
}

/** A flat `[field, value, field, value, ...]` reply as a map. */
function pairs(reply: RespValue): Map<string, string> {
  const map = new Map<string, string>()
  if (!Array.isArray(reply)) return map
  for (let i = 0; i + 1 < reply.length; i += 2) map.set(String(reply[i]), String(reply[i + 1]))
  return map
}
