/**
 * The invalidation bus in its two modes on a local Redis Cluster (3 masters + 3 replicas, started
 * by the testkit), on its own; `pnpm bench` runs the same workload and puts it in the report.
 *
 * Run: pnpm run build && node apps/bench/dist/bus-modes.js
 */
import { RedisCluster } from '@tiercache/testkit'
import { printBusModes } from './print.js'
import { runBusModes } from './workloads/bus-modes.js'

const cluster = await RedisCluster.start({ masters: 3, replicasPerMaster: 1 })
try {
  printBusModes(await runBusModes(cluster))
} finally {
  await cluster.stop()
}
