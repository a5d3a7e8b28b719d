import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  type ClusterNodeView,
  parseClusterNodes,
  parseClusterSlots,
  parseInfo,
  type SlotOwner,
  type SlotRange,
  uncoveredSlots,
} from './cluster-topology.js'
import { CLUSTER_SLOTS, keySlot } from './key-slot.js'
import { ProcessRegistry } from './process-registry.js'
import { RedisNode, type RedisNodeInfo } from './redis-node.js'
import { type RedisCommandOptions, RedisReplyError, type RespValue, redisCommand } from './resp-client.js'
import { type MoveSlotsOptions, migrateSlots } from './slot-migration.js'
import { readDescription, requireCount, startWithRegistry } from './start-up.js'
import { type ProbeResult, waitUntil } from './wait-until.js'

/** How to start a {@link RedisCluster}. */
export interface RedisClusterOptions {
  /** Number of masters; the 16384 slots are split evenly between them. Default 3. */
  masters?: number
  /** Replicas per master; 0 gives a cluster that cannot fail over. Default 1. */
  replicasPerMaster?: number
  /**
   * `cluster-node-timeout` in milliseconds. A killed master is failed over after roughly this
   * long plus an election (about one more second). Default 1000 (Redis's own default is 15000).
   */
  nodeTimeoutMs?: number
  /** Milliseconds allowed for starting the nodes and forming a healthy cluster. Default 60000. */
  startTimeoutMs?: number
  /**
   * `cluster-require-full-coverage` of every node. `true` (Redis's default): while one slot has no
   * live master, every node refuses every command (CLUSTERDOWN); `false`: only the uncovered
   * slots are refused. Default `true`.
   */
  requireFullCoverage?: boolean
}

/** The defaults of {@link RedisClusterOptions}: 3 masters with 1 replica each, 1 s node timeout. */
export const DEFAULT_REDIS_CLUSTER_OPTIONS: Readonly<Required<RedisClusterOptions>> = Object.freeze({
  masters: 3,
  replicasPerMaster: 1,
  nodeTimeoutMs: 1_000,
  startTimeoutMs: 60_000,
  requireFullCoverage: true,
})

/**
 * Everything needed to rebuild a {@link RedisCluster} handle in another process (plain data, so
 * it passes through vitest's `provide`/`inject`). Get it from `toJSON()`, use it with `attach()`.
 */
export interface RedisClusterDescription {
  readonly kind: 'redis-cluster'
  /** The run directory holding the nodes' folders and state. */
  readonly runDir: string
  readonly host: string
  /** Client ports of every node, in start order: the first `masters` started as masters. */
  readonly ports: readonly number[]
  readonly masters: number
  readonly replicasPerMaster: number
  readonly nodeTimeoutMs: number
}

/** A host and port to give a cluster client as a seed. */
export interface NodeAddress {
  readonly host: string
  readonly port: number
}

/** Options of the waits of {@link RedisCluster}. */
export interface WaitOptions {
  /** Give up after this many milliseconds. Default 30000 (60000 for `ensureHealthy`). */
  timeoutMs?: number
}

/** What one node answered to the health probe; `ok: false` when it did not answer (dead or paused). */
type NodeProbe =
  | { readonly ok: false; readonly port: number; readonly error: string }
  | {
      readonly ok: true
      readonly port: number
      readonly clusterInfo: Map<string, string>
      readonly slots: SlotOwner[]
      readonly views: ClusterNodeView[]
      readonly replication: Map<string, string>
    }

// A node that takes longer than this to answer a few CLUSTER commands is treated as down:
// it is paused, or about to be declared failed by the others anyway.
const PROBE_TIMEOUT_MS = 1_000

/**
 * A real Redis Cluster on 127.0.0.1 made of `redis-server` processes (3 masters + 3 replicas by
 * default), for tests that must see slots, redirections and failovers as production does.
 *
 * `RedisCluster.start()` starts and forms it; `toJSON()`/`RedisCluster.attach()` hand it to
 * another process (vitest workers), which can kill, pause and restart nodes too. Topology
 * questions (`masters()`, `masterForKey()`) are answered from the live `CLUSTER NODES` of a node
 * that answers, so they stay right after failovers.
 */
export class RedisCluster {
  /** Always 127.0.0.1. */
  readonly host = '127.0.0.1'
  private readonly nodeHandles: readonly RedisNode[]
  // Slots a node served when this handle last killed or paused it, so waitForFailover knows what
  // to watch even after the dead node has vanished from the others' view.
  private readonly slotsBeforeOutage = new Map<number, readonly SlotRange[]>()

  private constructor(
    private readonly registry: ProcessRegistry,
    private readonly description: RedisClusterDescription,
  ) {
    this.nodeHandles = description.ports.map((port) => RedisNode.attach(registry, port))
  }

  /**
   * Starts `masters * (1 + replicasPerMaster)` nodes on free loopback ports, forms the cluster
   * (slots split evenly, replicas attached) and resolves once every node reports
   * `cluster_state:ok`, all nodes agree on the slot map and every replica is in sync. On failure
   * every started process is killed before the error is thrown. Throws at once, with install
   * instructions, when redis-server is missing.
   */
  static async start(options: RedisClusterOptions = {}): Promise<RedisCluster> {
    const config = { ...DEFAULT_REDIS_CLUSTER_OPTIONS, ...options }
    requireCount('masters', config.masters, 1)
    requireCount('replicasPerMaster', config.replicasPerMaster, 0)
    const deadline = Date.now() + config.startTimeoutMs
    return startWithRegistry(async (registry) => {
      const exclude = new Set<number>()
      const total = config.masters * (1 + config.replicasPerMaster)
      const nodes = await Promise.all(
        Array.from({ length: total }, () =>
          RedisNode.startOnFreePort(
            registry,
            {
              cluster: { nodeTimeoutMs: config.nodeTimeoutMs, requireFullCoverage: config.requireFullCoverage },
              startTimeoutMs: config.startTimeoutMs,
            },
            exclude,
          ),
        ),
      )
      const description: RedisClusterDescription = {
        kind: 'redis-cluster',
        runDir: registry.runDir,
        host: '127.0.0.1',
        ports: nodes.map((node) => node.port),
        masters: config.masters,
        replicasPerMaster: config.replicasPerMaster,
        nodeTimeoutMs: config.nodeTimeoutMs,
      }
      const cluster = new RedisCluster(registry, description)
      writeFileSync(cluster.stateFile, JSON.stringify(description, null, 2))
      await cluster.form(deadline)
      return cluster
    })
  }

  /**
   * Rebuilds a handle on a cluster started by another process (or earlier), from its
   * {@link RedisClusterDescription} or the path of its {@link RedisCluster.stateFile}.
   */
  static attach(description: RedisClusterDescription | string): RedisCluster {
    const resolved = readDescription(description, 'redis-cluster', 'Redis Cluster')
    return new RedisCluster(ProcessRegistry.attach(resolved.runDir), resolved)
  }

  /** Path of a JSON file holding {@link toJSON}'s description, for `attach(path)` from scripts. */
  get stateFile(): string {
    return join(this.description.runDir, 'cluster.json')
  }

  /** Where every node runs (port, current pid, folder), in start order. */
  get nodes(): RedisNodeInfo[] {
    return this.nodeHandles.map((node) => node.info())
  }

  /** The addresses of all nodes, to seed a cluster client; dead nodes included, clients skip them. */
  seeds(): NodeAddress[] {
    return this.description.ports.map((port) => ({ host: this.host, port }))
  }

  /** The plain-data description that {@link RedisCluster.attach} takes. */
  toJSON(): RedisClusterDescription {
    return this.description
  }

  /** The hash slot of `key`, exactly as Redis computes it (CRC16, hash tags honoured). */
  keySlot(key: string | Uint8Array): number {
    return keySlot(key)
  }

  /** Sends one command to the node on `port` (fresh connection, no redirection handling). */
  command(port: number, args: readonly (string | number)[], options: RedisCommandOptions = {}): Promise<RespValue> {
    return redisCommand(port, args, { host: this.host, ...options })
  }

  /** The masters that serve slots and answer PING now, from the live `CLUSTER NODES` view. */
  async masters(): Promise<ClusterNodeView[]> {
    const view = await this.liveView()
    return this.responsive(view.filter((node) => node.role === 'master' && !node.failing && node.slots.length > 0))
  }

  /** The replicas that answer PING now, from the live `CLUSTER NODES` view. */
  async replicas(): Promise<ClusterNodeView[]> {
    const view = await this.liveView()
    return this.responsive(view.filter((node) => node.role === 'replica' && !node.failing))
  }

  /**
   * The master that owns `slot` in the live view. Right after a master dies and before its
   * failover, that is still the dead master: it owns the slot until a replica takes over.
   */
  async masterForSlot(slot: number): Promise<ClusterNodeView> {
    const view = await this.liveView()
    const owner = view.find((node) => node.role === 'master' && node.slots.some(([first, last]) => slot >= first && slot <= last))
    if (owner === undefined) throw new Error(`No master owns slot ${slot}`)
    return owner
  }

  /** The master that owns the slot of `key`; see {@link masterForSlot}. */
  masterForKey(key: string | Uint8Array): Promise<ClusterNodeView> {
    return this.masterForSlot(keySlot(key))
  }

  /**
   * Sends `signal` (default SIGKILL) to the node on `port`, and for a signal that ends it waits
   * until it is gone. The slots it served are remembered for {@link waitForFailover}.
   */
  async kill(port: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const node = this.node(port)
    await this.rememberSlots(port)
    await node.kill(signal)
  }

  /** Freezes the node on `port` (SIGSTOP), like a hung host: it keeps its sockets and answers nothing. */
  async pause(port: number): Promise<void> {
    const node = this.node(port)
    await this.rememberSlots(port)
    node.pause()
  }

  /** Continues a paused node (SIGCONT). A master that was failed over meanwhile rejoins as a replica. */
  async resume(port: number): Promise<void> {
    this.node(port).resume()
  }

  /**
   * Starts the node on `port` again (killing it first if it runs) with its old folder and
   * nodes.conf, so it rejoins under its old id; resolves once it answers PING. It may come back
   * as a replica if it was failed over. Use {@link waitForHealthy} to wait for the cluster.
   */
  async restart(port: number): Promise<void> {
    await this.node(port).restart()
  }

  /**
   * Waits until the slots the master on `deadMasterPort` served are owned by another node on
   * which every other live node agrees, and every other live node reports `cluster_state:ok`;
   * resolves with that new master. Call it after {@link kill} or {@link pause} of the master
   * (on the same handle, or at least before the failover completes). Default timeout 30 s.
   */
  async waitForFailover(deadMasterPort: number, options: WaitOptions = {}): Promise<ClusterNodeView> {
    const slots = this.slotsBeforeOutage.get(deadMasterPort) ?? (await this.slotsInLiveView(deadMasterPort))
    if (slots.length === 0) {
      throw new Error(
        `${this.host}:${deadMasterPort} serves no slots this handle knows of: call waitForFailover(port) after kill(port) or pause(port) of a master`,
      )
    }
    return waitUntil(
      `a replica to take over the slots of ${this.host}:${deadMasterPort}`,
      async (): Promise<ProbeResult<ClusterNodeView>> => {
        const live = (await this.probeAll()).filter((probe) => probe.ok && probe.port !== deadMasterPort)
        if (live.length === 0) return { done: false, reason: 'no other node answers' }
        const owners = new Set<number>()
        for (const probe of live) {
          if (!probe.ok) continue
          const state = probe.clusterInfo.get('cluster_state')
          if (state !== 'ok') return { done: false, reason: `${probe.port} reports cluster_state:${state}` }
          for (const [first] of slots) {
            const owner = probe.slots.find((range) => first >= range.first && first <= range.last)
            if (owner === undefined) return { done: false, reason: `${probe.port} has no owner for slot ${first}` }
            owners.add(owner.masterPort)
          }
        }
        const [newPort] = owners
        if (owners.size !== 1 || newPort === undefined)
          return { done: false, reason: `nodes disagree on the new owner: ${[...owners].join(', ')}` }
        if (newPort === deadMasterPort) return { done: false, reason: 'the dead master still owns its slots' }
        const first = live[0]
        const newMaster = first?.ok ? first.views.find((node) => node.port === newPort) : undefined
        if (newMaster === undefined) return { done: false, reason: `the new owner ${newPort} is missing from CLUSTER NODES` }
        return { done: true, value: newMaster }
      },
      { timeoutMs: options.timeoutMs ?? 30_000 },
    )
  }

  /**
   * Waits until the cluster serves every slot: every live node reports `cluster_state:ok` and
   * full coverage, no live node is flagged failing by another, and all live nodes return the
   * same `CLUSTER SLOTS` map. Dead or paused nodes are ignored. Default timeout 30 s.
   */
  async waitForHealthy(options: WaitOptions = {}): Promise<void> {
    await this.waitForHealth(false, options.timeoutMs ?? 30_000)
  }

  /**
   * Brings the cluster back to full strength after whatever a test did to it: resumes paused
   * nodes, restarts dead ones (they rejoin from their nodes.conf; a failed-over master comes
   * back as a replica), then waits until every node answers, knows every other, is flagged by
   * none as failing, agrees on the slot map, every master has a replica when replicas were asked
   * for, and every replica is in sync. Run between test files. Default timeout 60 s.
   */
  async ensureHealthy(options: WaitOptions = {}): Promise<void> {
    await Promise.all(this.nodeHandles.map(revive))
    await this.waitForHealth(true, options.timeoutMs ?? 60_000)
  }

  /**
   * Deletes every key: FLUSHALL on every live master, then WAIT for its replicas, so a test that
   * reads from a replica does not see the previous file's data.
   */
  async flushAll(): Promise<void> {
    const view = await this.liveView()
    const masters = await this.responsive(view.filter((node) => node.role === 'master' && !node.failing && node.slots.length > 0))
    await Promise.all(
      masters.map(async (master) => {
        const replicas = view.filter((node) => node.masterId === master.id && !node.failing).length
        await redisCommand(master.port, ['FLUSHALL'], { host: this.host, timeoutMs: 10_000 })
        if (replicas > 0) await redisCommand(master.port, ['WAIT', replicas, 2_000], { host: this.host, timeoutMs: 5_000 })
      }),
    )
  }

  /**
   * Moves hash slots (inclusive ranges) to the master on `toPort` with their keys, the way
   * `redis-cli --cluster reshard` does, while the cluster keeps serving (clients see MOVED, ASK
   * and TRYAGAIN meanwhile); see {@link migrateSlots}. Resolves with the number of slots moved.
   */
  moveSlots(slots: readonly SlotRange[], toPort: number, options: MoveSlotsOptions = {}): Promise<number> {
    return migrateSlots({ host: this.host, view: () => this.liveView() }, slots, toPort, options)
  }

  /** Kills every process started for this cluster (by pid, SIGKILL) and removes its run directory. */
  async stop(): Promise<void> {
    await this.registry.stop()
  }

  private node(port: number): RedisNode {
    const node = this.nodeHandles.find((candidate) => candidate.port === port)
    if (node === undefined) throw new Error(`No node of this cluster listens on port ${port} (nodes: ${this.description.ports.join(', ')})`)
    return node
  }

  private async rememberSlots(port: number): Promise<void> {
    const slots = await this.slotsInLiveView(port).catch(() => [])
    if (slots.length > 0) this.slotsBeforeOutage.set(port, slots)
    else this.slotsBeforeOutage.delete(port)
  }

  private async slotsInLiveView(port: number): Promise<readonly SlotRange[]> {
    const view = await this.liveView(port)
    return view.find((node) => node.port === port)?.slots ?? []
  }

  /** `CLUSTER NODES` from the first node that answers, preferably not `excludePort`. */
  private async liveView(excludePort?: number): Promise<ClusterNodeView[]> {
    const ports = [...this.description.ports.filter((port) => port !== excludePort), ...(excludePort === undefined ? [] : [excludePort])]
    const errors: string[] = []
    for (const port of ports) {
      try {
        const text = await redisCommand(port, ['CLUSTER', 'NODES'], { host: this.host, timeoutMs: 500 })
        return parseClusterNodes(String(text))
      } catch (error) {
        errors.push((error as Error).message)
      }
    }
    throw new Error(`No node of the cluster answers: ${errors.join('; ')}`)
  }

  private async responsive(nodes: ClusterNodeView[]): Promise<ClusterNodeView[]> {
    const alive = await Promise.all(nodes.map((node) => this.node(node.port).isResponsive(300)))
    return nodes.filter((_, index) => alive[index])
  }

  private probeAll(): Promise<NodeProbe[]> {
    return Promise.all(this.nodeHandles.map((node) => probeNode(node)))
  }

  private async waitForHealth(strict: boolean, timeoutMs: number): Promise<void> {
    await waitUntil(
      strict ? 'every node of the cluster to be up and in agreement' : 'the cluster to serve every slot',
      async () => {
        const problems = healthProblems(await this.probeAll(), this.description, strict)
        return problems.length === 0 ? { done: true, value: undefined } : { done: false, reason: problems.join('; ') }
      },
      { timeoutMs },
    )
  }

  /** Forms the cluster from freshly started, empty nodes, the way `redis-cli --cluster create` does. */
  private async form(deadline: number): Promise<void> {
    const { ports, masters: masterCount, replicasPerMaster } = this.description
    const masters = ports.slice(0, masterCount)
    const replicas = ports.slice(masterCount)
    const send = (port: number, args: readonly (string | number)[]) => redisCommand(port, args, { host: this.host, timeoutMs: 5_000 })
    const remaining = () => Math.max(deadline - Date.now(), 1_000)

    // Distinct config epochs before the nodes meet, as redis-cli does: nodes that all start at
    // epoch 0 resolve the collisions one round at a time, which delays agreement by seconds.
    await Promise.all(ports.map((port, index) => send(port, ['CLUSTER', 'SET-CONFIG-EPOCH', index + 1])))
    await Promise.all(
      masters.map((port, index) => {
        const first = Math.floor((index * CLUSTER_SLOTS) / masterCount)
        const last = Math.floor(((index + 1) * CLUSTER_SLOTS) / masterCount) - 1
        return send(port, ['CLUSTER', 'ADDSLOTSRANGE', first, last])
      }),
    )
    const [introducer, ...others] = ports
    if (introducer === undefined) throw new Error('A cluster needs at least one node')
    for (const port of others) await send(introducer, ['CLUSTER', 'MEET', this.host, port])
    await waitUntil(
      'every node to know every other node',
      async () => {
        for (const port of ports) {
          const view = parseClusterNodes(String(await send(port, ['CLUSTER', 'NODES'])))
          const settled = view.filter((node) => !node.flags.includes('handshake') && !node.flags.includes('noaddr'))
          if (settled.length < ports.length) return { done: false, reason: `${port} knows ${settled.length} of ${ports.length} nodes` }
        }
        return { done: true, value: undefined }
      },
      { timeoutMs: remaining() },
    )

    const ids = await Promise.all(masters.map(async (port) => String(await send(port, ['CLUSTER', 'MYID']))))
    await Promise.all(
      replicas.map((port, index) => {
        const masterId = ids[Math.floor(index / replicasPerMaster)]
        // A replica can only follow a master it has heard of as a master; gossip may lag behind
        // the MEET that introduced them, so retry until it is accepted.
        return waitUntil(
          `${this.host}:${port} to replicate ${masterId}`,
          async () => {
            const reply = await send(port, ['CLUSTER', 'REPLICATE', String(masterId)]).catch((error: unknown) => error)
            return reply instanceof Error ? { done: false, reason: reply.message } : { done: true, value: undefined }
          },
          { timeoutMs: remaining() },
        )
      }),
    )
    await this.waitForHealth(true, remaining())
  }
}

async function revive(node: RedisNode): Promise<void> {
  if (await node.isResponsive()) return
  if (node.pid !== undefined) {
    // Paused (or merely slow): continuing it is gentler than a restart and keeps its data.
    node.resume()
    for (let attempt = 0; attempt < 4; attempt++) if (await node.isResponsive()) return
  }
  await node.restart()
}

async function probeNode(node: RedisNode): Promise<NodeProbe> {
  try {
    const [info, slots, nodes, replication] = await node.pipeline(
      [
        ['CLUSTER', 'INFO'],
        ['CLUSTER', 'SLOTS'],
        ['CLUSTER', 'NODES'],
        ['INFO', 'replication'],
      ],
      { timeoutMs: PROBE_TIMEOUT_MS },
    )
    for (const reply of [info, slots, nodes, replication]) if (reply instanceof RedisReplyError) throw reply
    return {
      ok: true,
      port: node.port,
      clusterInfo: parseInfo(String(info)),
      slots: parseClusterSlots(slots ?? null),
      views: parseClusterNodes(String(nodes)),
      replication: parseInfo(String(replication)),
    }
  } catch (error) {
    return { ok: false, port: node.port, error: (error as Error).message }
  }
}

/** What keeps the cluster from being healthy, as readable reasons; empty when healthy. */
function healthProblems(probes: readonly NodeProbe[], description: RedisClusterDescription, strict: boolean): string[] {
  const problems: string[] = []
  const live = probes.filter((probe) => probe.ok)
  if (live.length === 0) return ['no node answers']
  const livePorts = new Set(live.map((probe) => probe.port))
  for (const probe of probes) {
    if (!probe.ok) {
      if (strict) problems.push(`${probe.port} does not answer (${probe.error})`)
      continue
    }
    const state = probe.clusterInfo.get('cluster_state')
    if (state !== 'ok') problems.push(`${probe.port} reports cluster_state:${state}`)
    const gaps = uncoveredSlots(probe.slots.map((owner) => [owner.first, owner.last] as const))
    if (gaps.length > 0) problems.push(`${probe.port} sees slots ${gaps.map(([a, b]) => `${a}-${b}`).join(',')} unserved`)
    for (const view of probe.views) {
      const listedAlive = livePorts.has(view.port)
      if ((strict || listedAlive) && view.failing) problems.push(`${probe.port} flags ${view.port} as ${view.flags.join(',')}`)
      if (view.flags.includes('handshake') || view.flags.includes('noaddr')) problems.push(`${probe.port} is still meeting ${view.port}`)
    }
    if (strict && probe.views.length < description.ports.length) {
      problems.push(`${probe.port} knows ${probe.views.length} of ${description.ports.length} nodes`)
    }
    if (strict && probe.replication.get('role') === 'slave' && probe.replication.get('master_link_status') !== 'up') {
      problems.push(`replica ${probe.port} is not in sync with its master`)
    }
  }
  const maps = new Map<string, number[]>()
  for (const probe of live) {
    if (!probe.ok) continue
    const key = JSON.stringify(probe.slots)
    maps.set(key, [...(maps.get(key) ?? []), probe.port])
  }
  if (maps.size > 1) {
    const summary = [...maps.values()].map((ports) => ports.join('+')).join(' vs ')
    problems.push(`nodes disagree on the slot map (${summary})`)
  }
  if (strict && description.replicasPerMaster > 0) {
    const first = live[0]
    for (const owner of first?.ok ? first.slots : []) {
      if (owner.replicaPorts.length === 0) problems.push(`master ${owner.masterPort} has no replica`)
    }
  }
  return problems
}
