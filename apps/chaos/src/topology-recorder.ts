import type { RedisCluster } from '@tiercache/testkit'

/** How often every node is asked for its role, slots and replication state (ms). */
const SAMPLE_MS = 250
/** A node that does not answer within this long is recorded as not answering (ms). */
const ASK_TIMEOUT_MS = 200
/** A replica further behind its master than this many bytes of the replication stream is recorded as behind. */
const BEHIND_BYTES = 16_384

/** What one node said of itself at one sample, as a line for a stale read's history. */
export interface TopologyEvent {
  readonly at: number
  readonly port: number
  readonly state: string
}

/**
 * Records, every 250 ms, what each node of the cluster says of itself: its role, the slots it
 * serves (a master), its master and whether its link is up and caught up (a replica), or that it
 * does not answer. Only changes are kept. A stale read's history then shows which node held the
 * key's slot, and whether the replica promoted in a failover had been following its master: the
 * question the histories of the double-failover stale reads (runs 4, 8 and 9 in
 * docs/failure-behaviour.md) could not answer.
 */
export class TopologyRecorder {
  private readonly events: TopologyEvent[] = []
  private readonly last = new Map<number, string>()
  private timer: NodeJS.Timeout | undefined
  private sampling: Promise<void> | undefined

  constructor(private readonly cluster: RedisCluster) {}

  start(): void {
    this.timer = setInterval(() => {
      this.sampling ??= this.sample().finally(() => {
        this.sampling = undefined
      })
    }, SAMPLE_MS)
  }

  async stop(): Promise<void> {
    clearInterval(this.timer)
    await this.sampling
  }

  /** The changes recorded from `from` to `until` (ms since the epoch), in time order. */
  between(from: number, until: number): TopologyEvent[] {
    return this.events.filter((event) => event.at >= from && event.at <= until)
  }

  private async sample(): Promise<void> {
    const at = Date.now()
    const states = await Promise.all(this.cluster.nodes.map(async (node) => [node.port, await this.describe(node.port)] as const))
    const offsets = new Map<number, number>()
    for (const [port, state] of states) if (state.offset !== undefined) offsets.set(port, state.offset)
    for (const [port, state] of states) {
      const masterOffset = state.masterPort === undefined ? undefined : offsets.get(state.masterPort)
      const behind = masterOffset !== undefined && state.offset !== undefined && masterOffset - state.offset > BEHIND_BYTES
      const text = `${state.text}${behind ? `, behind by ${masterOffset - (state.offset ?? 0)} bytes` : ''}`
      if (this.last.get(port) === text) continue
      this.last.set(port, text)
      this.events.push({ at, port, state: text })
    }
  }

  private async describe(port: number): Promise<{ text: string; offset?: number; masterPort?: number }> {
    try {
      const [nodes, replication] = await Promise.all([
        this.cluster.command(port, ['CLUSTER', 'NODES'], { timeoutMs: ASK_TIMEOUT_MS }),
        this.cluster.command(port, ['INFO', 'replication'], { timeoutMs: ASK_TIMEOUT_MS }),
      ])
      const info = new Map(
        String(replication)
          .split(/\r?\n/)
          .map((line) => line.split(':') as [string, string]),
      )
      const lines = String(nodes).trim().split('\n')
      const myself = lines.find((line) => line.split(' ')[2]?.includes('myself'))?.split(' ')
      const portOf = (id: string) =>
        lines
          .find((line) => line.startsWith(`${id} `))
          ?.split(' ')[1]
          ?.split(':')[1]
          ?.split('@')[0]
      const offset = Number(info.get('master_repl_offset') ?? Number.NaN)
      if (info.get('role') === 'master') {
        const slots = myself?.slice(8).join(' ') || 'no slots'
        return { text: `master of ${slots}, ${info.get('connected_slaves') ?? '?'} replica(s) connected`, offset }
      }
      const masterPort = Number(info.get('master_port'))
      const sync = info.get('master_sync_in_progress') === '1' ? ', full sync in progress' : ''
      const knownMaster = myself === undefined ? '' : ` (cluster: ${portOf(myself[3] ?? '') ?? '?'})`
      return {
        text: `replica of ${masterPort}${knownMaster}, link ${info.get('master_link_status') ?? '?'}${sync}`,
        offset: Number(info.get('slave_repl_offset') ?? Number.NaN),
        masterPort,
      }
    } catch (error) {
      return { text: `does not answer (${(error as Error).message.split('\n')[0]})` }
    }
  }
}
