// What a durable delete (UNLINK + WAIT 1 on the master) costs over a plain one, on a local Redis
// Cluster of 3 masters + 3 replicas started for the run. Prints p50/p99 in ms of each.
// Run after `pnpm run build`: node packages/redis/scripts/measure-durable-delete.mjs [deletes=3000]
import { RedisCluster } from '@tiercache/testkit'
import { redisClusterStore } from '../dist/index.js'

const count = Number(process.argv[2] ?? 3_000)
const cluster = await RedisCluster.start({ requireFullCoverage: false })
const store = redisClusterStore({ nodes: cluster.seeds(), deploymentCheck: false })
try {
  await store.ready()
  const keys = Array.from({ length: count }, (_, n) => `{bench:item:${n}}`)
  const measure = async (run) => {
    const times = []
    for (const key of keys) {
      await store.set(key, 'value', 60_000)
      const started = performance.now()
      await run([key, `${key}:lock`])
      times.push(performance.now() - started)
    }
    times.sort((a, b) => a - b)
    const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))].toFixed(3)
    return { p50: at(0.5), p99: at(0.99) }
  }
  // Warm up connections and scripts, then alternate so both see the same machine.
  await measure((k) => store.delete(k))
  const plain = await measure((k) => store.delete(k))
  let unconfirmed = 0
  const durable = await measure(async (k) => {
    unconfirmed += (await store.deleteDurably(k)).unconfirmed.length
  })
  console.log(`${count} deletes of a value and its lease, one at a time`)
  console.log(`delete:        p50 ${plain.p50} ms, p99 ${plain.p99} ms`)
  console.log(`deleteDurably: p50 ${durable.p50} ms, p99 ${durable.p99} ms (unconfirmed keys: ${unconfirmed})`)
} finally {
  await store.close()
  await cluster.stop()
}
