import type { RedisClientType, RedisClusterType } from '@redis/client'
import {
  CLUSTER_SLOT_COUNT,
  type DurableDeletes,
  EMPTY_SLOT_MAP,
  type KeyWrite,
  keySlot,
  type SlotMap,
  sameSlotOwners,
  settleWithin,
  slotMapChange,
  slotMapOf,
  type TopologyListener,
  TopologyPace,
  tellTopologyListeners,
  UNKNOWN_SHARD,
  UNLINK,
  type UnconfirmedDelete,
} from '@tiercache/redis-common'
import { deleteOnCluster } from './cluster-deletes.js'
import { ClusterReplicas, type SlotRanges } from './cluster-replicas.js'
import type { StoreShards } from './store-shards.js'

/**
 * The shards of a Redis Cluster as the node-redis store reports them: a shard is a master, named
 * by its `host:port` as node-redis's slot table has it (`cluster.slots[slot].master.address`, the
 * node commands for the slot go to), so the id of a key's shard changes when its slot moves or its
 * master is failed over. The same ids as the ioredis store's.
 *
 * Watching: node-redis reads the slot map only when a command gets `MOVED` (or `ASK` to a node it
 * does not know). A master that dies answers nothing, so after its replica is promoted node-redis
 * would keep sending that shard's commands to the dead address for good. So while anyone listens,
 * the store asks a connected master for `CLUSTER SLOTS` every second (every 200 ms for 30 s after a
 * node connection fails: `node-error`, `node-reconnecting`) on the connection it already has; when
 * the answer differs from node-redis's table it has node-redis read the map again
 * (`cluster._slots.rediscover`, the call node-redis itself makes on `MOVED`; there is no public
 * one), which opens one short-lived connection. Each look then compares node-redis's table with
 * the one last seen (so a change node-redis learned by itself, on a `MOVED`, is reported too) and
 * tells the listeners which masters changed.
 *
 * Deletes: see `cluster-deletes.ts`; the replica counts a durable delete needs come from the same
 * `CLUSTER SLOTS` answers (`cluster-replicas.ts`).
 */
export class NodeRedisClusterShards implements StoreShards {
  private readonly listeners = new Set<TopologyListener>()
  private seen: SlotMap = EMPTY_SLOT_MAP
  private timer: NodeJS.Timeout | undefined
  private looking: Promise<void> | undefined
  private readonly pace: TopologyPace
  private closed = false
  /** Which connected master to ask next: the looks go round them. */
  private turn = 0
  private readonly replicas: ClusterReplicas

  /** `rules`: of durable deletes; `now`: the clock of the refresh pace (ms), injectable for tests. */
  constructor(
    private readonly cluster: RedisClusterType,
    private readonly rules: DurableDeletes,
    now: () => number = Date.now,
  ) {
    this.pace = new TopologyPace(now)
    this.replicas = new ClusterReplicas(() => this.askSlots(), now)
    cluster.on('node-error', this.nodeFailing)
    cluster.on('node-reconnecting', this.nodeFailing)
  }

  /** The master that owns `key`'s slot in node-redis's table; `unknown` before the table is read or while the slot is unowned. */
  shardOf(key: string): string {
    return this.cluster.slots[keySlot(key)]?.master.address ?? UNKNOWN_SHARD
  }

  delete(keys: readonly string[], durable: boolean, write: KeyWrite = UNLINK): Promise<UnconfirmedDelete[]> {
    return deleteOnCluster(this.cluster, this.rules, (address) => this.replicas.of(address), keys, durable, write)
  }

  onTopologyChange(listener: TopologyListener): () => void {
    const first = this.listeners.size === 0
    this.listeners.add(listener)
    if (first && !this.closed) {
      this.seen = this.clientMap()
      if (this.timer === undefined && this.looking === undefined) this.schedule()
    }
    return () => {
      this.listeners.delete(listener)
      if (this.listeners.size === 0) this.stopTimer()
    }
  }

  /** Stops watching; resolves once a look in flight has ended, so no rediscovery outlives the store's client. */
  async close(): Promise<void> {
    this.closed = true
    this.stopTimer()
    this.listeners.clear()
    this.cluster.off('node-error', this.nodeFailing)
    this.cluster.off('node-reconnecting', this.nodeFailing)
    await this.looking
  }

  private readonly nodeFailing = (): void => {
    if (this.pace.nodeFailing() && this.timer !== undefined) {
      this.stopTimer()
      this.schedule()
    }
  }

  private schedule(): void {
    if (this.closed || this.listeners.size === 0) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.looking = this.look().finally(() => {
        this.looking = undefined
        this.schedule()
      })
    }, this.pace.delay())
    // Watching must not keep an otherwise idle process alive.
    this.timer.unref()
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
  }

  /** One look: bring node-redis's table up to date if the cluster's differs, then report what changed since the last look. */
  private async look(): Promise<void> {
    await this.catchUp()
    if (this.closed || this.listeners.size === 0) return
    const now = this.clientMap()
    // An empty table is a client closed or rediscovering: keep the last map, compare with the next.
    if (now.masters.size === 0) return
    const change = slotMapChange(this.seen, now)
    this.seen = now
    if (change !== undefined) tellTopologyListeners(this.listeners, change)
  }

  private async catchUp(): Promise<void> {
    if (!this.cluster.isOpen) return
    const client = this.connectedMaster()
    if (client === undefined) return
    let server: SlotMap
    try {
      const ranges = (await answerWithin(client.clusterSlots())) as SlotRanges
      this.replicas.learn(ranges)
      server = serverMap(ranges)
    } catch {
      // That master did not answer: the next look asks another.
      return
    }
    if (this.closed || server.masters.size === 0 || sameSlotOwners(server, this.clientMap())) return
    try {
      await answerWithin(this.cluster._slots.rediscover(client as never))
    } catch {
      // node-redis has reported it on the cluster's 'error' (or the master hung); the next look tries again.
    }
  }

  /** `CLUSTER SLOTS` from a connected master; `undefined` when none is connected. */
  private async askSlots(): Promise<SlotRanges | undefined> {
    const client = this.connectedMaster()
    return client === undefined ? undefined : ((await answerWithin(client.clusterSlots())) as SlotRanges)
  }

  private connectedMaster(): RedisClientType | undefined {
    const connected = this.cluster.masters.filter((master) => master.client?.isReady === true)
    if (connected.length === 0) return undefined
    this.turn = (this.turn + 1) % connected.length
    return connected[this.turn]?.client as RedisClientType | undefined
  }

  private clientMap(): SlotMap {
    const slots = this.cluster.slots
    return slotMapOf(slots.length, (slot) => slots[slot]?.master.address)
  }
}

/**
 * How long a look waits for a master's answer (ms). A master that hangs (paused, partitioned)
 * keeps its connection open and never answers: without a bound, the look in flight would never
 * end and the watch would stop for good, failover included. Past it the next look asks another.
 */
const LOOK_TIMEOUT_MS = 1_000

function answerWithin<T>(call: Promise<T>): Promise<T> {
  return settleWithin(call, LOOK_TIMEOUT_MS, `no answer within ${LOOK_TIMEOUT_MS} ms`)
}

/** The slot map in a `CLUSTER SLOTS` answer, masters named `host:port` as node-redis names them. */
function serverMap(ranges: SlotRanges): SlotMap {
  const owners = new Array<string | undefined>(CLUSTER_SLOT_COUNT)
  for (const range of ranges) {
    const address = `${String(range.master.host)}:${String(range.master.port)}`
    for (let slot = range.from; slot <= range.to; slot++) owners[slot] = address
  }
  return slotMapOf(CLUSTER_SLOT_COUNT, (slot) => owners[slot])
}
