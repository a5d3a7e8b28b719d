/**
 * The hot-key workload (g) on its own, on a local Redis Cluster (3 masters + 3 replicas, started
 * by the testkit); `pnpm bench` runs the same workload and puts it in the report.
 *
 * Run: pnpm run build && node apps/bench/dist/hot-key.js
 */
import { RedisCluster } from '@tiercache/testkit'
import { printHotKey } from './print.js'
import { runHotKey } from './workloads/hot-key.js'

const cluster = await RedisCluster.start({ masters: 3, replicasPerMaster: 1 })
try {
  printHotKey(await runHotKey(cluster))
} finally {
  await cluster.stop()
}
