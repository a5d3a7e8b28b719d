import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { waitForSlotsTakenOver } from './cluster-failover.js'
import { formCluster } from './cluster-formation.js'
import { revive, waitForHealth } from './cluster-health.js'
import { flushMasters, isServingMaster, liveClusterView } from './cluster-live-view.js'
import type { ClusterNodeView, SlotRange } from './cluster-topology.js'
import { keySlot } from './key-slot.js'
import { ProcessRegistry } from './process-registry.js'
import {
  DEFAULT_REDIS_CLUSTER_OPTIONS,
  type NodeAddress,
  type RedisClusterDescription,
  type RedisClusterOptions,
  type WaitOptions,
} from './redis-cluster-options.js'
import { RedisNode, type RedisNodeInfo } from './redis-node.js'
import { type RedisCommandOptions, type RespValue, redisCommand } from './resp-client.js'
import { type MoveSlotsOptions, migrateSlots } from './slot-migration.js'
import { readDescription, requireCount, startWithRegistry } from './start-up.js'

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
      await formCluster(cluster.nodeHandles, description, deadline)
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
    return this.responsive(view.filter(isServingMaster))
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
    return waitForSlotsTakenOver(this.host, this.nodeHandles, deadMasterPort, slots, options.timeoutMs ?? 30_000)
  }

  /**
   * Waits until the cluster serves every slot: every live node reports `cluster_state:ok` and
   * full coverage, no live node is flagged failing by another, and all live nodes return the
   * same `CLUSTER SLOTS` map. Dead or paused nodes are ignored. Default timeout 30 s.
   */
  async waitForHealthy(options: WaitOptions = {}): Promise<void> {
    await waitForHealth(this.nodeHandles, this.description, false, options.timeoutMs ?? 30_000)
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
    await waitForHealth(this.nodeHandles, this.description, true, options.timeoutMs ?? 60_000)
  }

  /**
   * Deletes every key: FLUSHALL on every live master, then WAIT for its replicas, so a test that
   * reads from a replica does not see the previous file's data.
   */
  async flushAll(): Promise<void> {
    const view = await this.liveView()
    await flushMasters(this.host, view, await this.responsive(view.filter(isServingMaster)))
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
  private liveView(excludePort?: number): Promise<ClusterNodeView[]> {
    return liveClusterView(this.host, this.description.ports, excludePort)
  }

  private async responsive(nodes: ClusterNodeView[]): Promise<ClusterNodeView[]> {
    const alive = await Promise.all(nodes.map((node) => this.node(node.port).isResponsive(300)))
    return nodes.filter((_, index) => alive[index])
  }
}
