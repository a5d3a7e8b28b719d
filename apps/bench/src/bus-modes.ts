/**
 * Measures the invalidation bus in its two modes on a local Redis Cluster (3 masters + 3
 * replicas, started by the testkit): classic PUBLISH/SUBSCRIBE against sharded
 * SPUBLISH/SSUBSCRIBE. For each mode: latency from `publish()` to receipt by another store
 * instance (sequential messages), throughput of a burst, and the cluster-bus messages each
 * publish costs (CLUSTER INFO counters summed over all nodes).
 *
 * Run: pnpm run build && node apps/bench/dist/bus-modes.js
 */
import { type BusMode, redisClusterStore } from '@tiercache/redis'
import { RedisCluster } from '@tiercache/testkit'

const SEQUENTIAL = 2_000
const BURST = 20_000
const RUNS = 3

interface ModeResult {
  mode: BusMode
  p50Us: number
  p99Us: number
  burstMsgsPerSec: number
  clusterBusMsgsPerPublish: number
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

async function measure(cluster: RedisCluster, mode: BusMode): Promise<ModeResult> {
  const publisher = redisClusterStore({ nodes: cluster.seeds(), bus: mode })
  const subscriber = redisClusterStore({ nodes: cluster.seeds(), bus: mode })
  const channel = '{bench}!bus'
  let onReceive: (text: string) => void = () => {}
  const subscription = await subscriber.subscribe(channel, { onMessage: (text) => onReceive(text) })
  await publisher.publish(channel, 'warm-up')

  const latencies: number[] = []
  const busBefore = await clusterBusMessages(cluster)
  for (let i = 0; i < SEQUENTIAL; i++) {
    const started = performance.now()
    const received = new Promise<void>((resolve) => {
      onReceive = () => resolve()
    })
    await publisher.publish(channel, String(i))
    await received
    latencies.push((performance.now() - started) * 1000)
  }
  const busPerPublish = ((await clusterBusMessages(cluster)) - busBefore) / SEQUENTIAL
  latencies.sort((a, b) => a - b)

  let count = 0
  const allReceived = new Promise<void>((resolve) => {
    onReceive = () => {
      if (++count === BURST) resolve()
    }
  })
  const burstStarted = performance.now()
  await Promise.all(Array.from({ length: BURST }, (_, i) => publisher.publish(channel, String(i))))
  await allReceived
  const burstMsgsPerSec = BURST / ((performance.now() - burstStarted) / 1000)

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

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}

const cluster = await RedisCluster.start({ masters: 3, replicasPerMaster: 1 })
try {
  const runs: ModeResult[] = []
  // Interleave the modes so drift of the machine hits both alike.
  for (let run = 0; run < RUNS; run++) for (const mode of ['publish', 'spublish'] as const) runs.push(await measure(cluster, mode))
  console.log(
    `bus modes, ${RUNS} runs each (median), ${SEQUENTIAL} sequential messages, burst of ${BURST}, cluster of 3 masters + 3 replicas`,
  )
  console.log('mode       p50 us   p99 us   burst msgs/s   cluster-bus msgs per publish')
  for (const mode of ['publish', 'spublish'] as const) {
    const of = runs.filter((r) => r.mode === mode)
    console.log(
      `${mode.padEnd(9)}  ${median(of.map((r) => r.p50Us))
        .toFixed(0)
        .padStart(6)}   ${median(of.map((r) => r.p99Us))
        .toFixed(0)
        .padStart(6)}   ${median(of.map((r) => r.burstMsgsPerSec))
        .toFixed(0)
        .padStart(12)}   ${median(of.map((r) => r.clusterBusMsgsPerPublish))
        .toFixed(2)
        .padStart(8)}`,
    )
  }
} finally {
  await cluster.stop()
}
