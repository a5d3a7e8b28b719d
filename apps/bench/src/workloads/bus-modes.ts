import { performance } from 'node:perf_hooks'
import { type BusMode, redisClusterStore } from '@tiercache/redis'
import type { RedisCluster } from '@tiercache/testkit'
import { median } from '../harness.js'

/** Sequential messages timed one by one, and the size of the burst. */
export const BUS_SEQUENTIAL = 2_000
export const BUS_BURST = 20_000
/** Runs per mode, interleaved. */
export const BUS_RUNS = 3
const MODES = ['publish', 'spublish'] as const

/** One mode's figures (medians over the runs). */
export interface BusModeFigure {
  mode: BusMode
  p50Us: number
  p99Us: number
  burstMsgsPerSec: number
  /** Cluster-bus messages (CLUSTER INFO, summed over the nodes) per publish. */
  clusterBusMsgsPerPublish: number
}

/** The bus-modes workload's result. */
export interface BusModesResult {
  sequential: number
  burst: number
  figures: BusModeFigure[]
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number
}

async function clusterBusMessages(cluster: RedisCluster): Promise<number> {
  let total = 0
  for (const node of cluster.nodes) {
    const info = String(await cluster.command(node.port, ['CLUSTER', 'INFO']))
    for (const match of info.matchAll(/cluster_stats_messages_publish(?:shard)?_sent:(\d+)/g)) total += Number(match[1])
  }
  return total
}

async function measure(cluster: RedisCluster, mode: BusMode): Promise<BusModeFigure> {
  const publisher = redisClusterStore({ nodes: cluster.seeds(), bus: mode })
  const subscriber = redisClusterStore({ nodes: cluster.seeds(), bus: mode })
  const channel = '{bench}!bus'
  let onReceive: (text: string) => void = () => {}
  const subscription = await subscriber.subscribe(channel, { onMessage: (text) => onReceive(text) })
  await publisher.publish(channel, 'warm-up')

  const latencies: number[] = []
  const busBefore = await clusterBusMessages(cluster)
  for (let i = 0; i < BUS_SEQUENTIAL; i++) {
    const started = performance.now()
    const received = new Promise<void>((resolve) => {
      onReceive = () => resolve()
    })
    await publisher.publish(channel, String(i))
    await received
    latencies.push((performance.now() - started) * 1000)
  }
  const busPerPublish = ((await clusterBusMessages(cluster)) - busBefore) / BUS_SEQUENTIAL
  latencies.sort((a, b) => a - b)

  let count = 0
  const allReceived = new Promise<void>((resolve) => {
    onReceive = () => {
      if (++count === BUS_BURST) resolve()
    }
  })
  const burstStarted = performance.now()
  await Promise.all(Array.from({ length: BUS_BURST }, (_, i) => publisher.publish(channel, String(i))))
  await allReceived
  const burstMsgsPerSec = BUS_BURST / ((performance.now() - burstStarted) / 1000)

  await subscription.unsubscribe()
  await Promise.all([publisher.close(), subscriber.close()])
  return {
    mode,
    p50Us: quantile(latencies, 0.5),
    p99Us: quantile(latencies, 0.99),
    burstMsgsPerSec,
    clusterBusMsgsPerPublish: busPerPublish,
  }
}

/**
 * The invalidation bus in its two modes: classic PUBLISH/SUBSCRIBE against sharded
 * SPUBLISH/SSUBSCRIBE. For each mode: latency from `publish()` to receipt by another store
 * instance (sequential messages), throughput of a burst, and the cluster-bus messages each
 * publish costs. Modes interleaved, medians of the runs.
 */
export async function runBusModes(cluster: RedisCluster): Promise<BusModesResult> {
  const runs: BusModeFigure[] = []
  for (let run = 0; run < BUS_RUNS; run++) for (const mode of MODES) runs.push(await measure(cluster, mode))
  return {
    sequential: BUS_SEQUENTIAL,
    burst: BUS_BURST,
    figures: MODES.map((mode) => {
      const of = runs.filter((r) => r.mode === mode)
      return {
        mode,
        p50Us: median(of.map((r) => r.p50Us)),
        p99Us: median(of.map((r) => r.p99Us)),
        burstMsgsPerSec: median(of.map((r) => r.burstMsgsPerSec)),
        clusterBusMsgsPerPublish: median(of.map((r) => r.clusterBusMsgsPerPublish)),
      }
    }),
  }
}
