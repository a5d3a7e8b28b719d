// What a durable delete (UNLINK + WAIT 1 on the key's master) costs over a plain one, on a local
// Redis Cluster of 3 masters + 3 replicas started for the run, for the ioredis (`redis`) or the
// node-redis (`node-redis`) store: the store's `delete` against `deleteDurably`, and a cache's
// `invalidate()` with `durableInvalidation` off against on (the default). Prints p50/p99 in ms.
// Run after `pnpm run build`: node scripts/measure-durable-delete.mjs <redis|node-redis> [deletes=3000]
import { createCache } from '../packages/core/dist/index.js'
import { RedisCluster } from '../packages/testkit/dist/index.js'

const storeName = process.argv[2] ?? 'redis'
const count = Number(process.argv[3] ?? 3_000)
const makeStore = await storeFactory(storeName)
const cluster = await RedisCluster.start({ requireFullCoverage: false })
const store = makeStore(cluster.seeds())
try {
  await store.ready()
  const keys = Array.from({ length: count }, (_, n) => `{bench:item:${n}}`)
  // Warm up connections, then each kind in turn, so both see the same machine.
  await timed(
    keys,
    (key) => store.set(key, 'value', 60_000),
    (key) => store.delete([key, `${key}:lock`]),
  )
  const plain = await timed(
    keys,
    (key) => store.set(key, 'value', 60_000),
    (key) => store.delete([key, `${key}:lock`]),
  )
  let unconfirmed = 0
  const durable = await timed(
    keys,
    (key) => store.set(key, 'value', 60_000),
    async (key) => {
      unconfirmed += (await store.deleteDurably([key, `${key}:lock`])).unconfirmed.length
    },
  )
  const invalidatePlain = await invalidations(false)
  const invalidateDurable = await invalidations(true)
  console.log(`${storeName}: ${count} deletes of a value and its lease, one at a time`)
  console.log(`delete:                              p50 ${plain.p50} ms, p99 ${plain.p99} ms`)
  console.log(`deleteDurably:                       p50 ${durable.p50} ms, p99 ${durable.p99} ms (unconfirmed keys: ${unconfirmed})`)
  console.log(`invalidate(), durableInvalidation off: p50 ${invalidatePlain.p50} ms, p99 ${invalidatePlain.p99} ms`)
  console.log(`invalidate(), durableInvalidation on:  p50 ${invalidateDurable.p50} ms, p99 ${invalidateDurable.p99} ms`)
} finally {
  await store.close()
  await cluster.stop()
}

/** `count` invalidations of cached values through a cache on its own store, one at a time. */
async function invalidations(durableInvalidation) {
  const cache = createCache({
    namespace: `m${durableInvalidation ? 'd' : 'p'}`,
    durableInvalidation,
    l2: makeStore(cluster.seeds()),
    entities: { item: { ttl: '5m' } },
  })
  try {
    await cache.ready()
    const items = cache.entity('item')
    const ids = Array.from({ length: count }, (_, n) => String(n))
    return await timed(
      ids,
      (id) => items.get(id, async () => 'value'),
      (id) => items.invalidate(id),
    )
  } finally {
    await cache.close()
  }
}

/** Runs `prepare` then times `run` for each of `items`, one at a time; p50 and p99 in ms. */
async function timed(items, prepare, run) {
  const times = []
  for (const item of items) {
    await prepare(item)
    const started = performance.now()
    await run(item)
    times.push(performance.now() - started)
  }
  times.sort((a, b) => a - b)
  const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))].toFixed(3)
  return { p50: at(0.5), p99: at(0.99) }
}

async function storeFactory(name) {
  if (name === 'redis') {
    const { redisClusterStore } = await import('../packages/redis/dist/index.js')
    return (nodes) => redisClusterStore({ nodes, deploymentCheck: false })
  }
  if (name === 'node-redis') {
    const { nodeRedisClusterStore } = await import('../packages/node-redis/dist/index.js')
    return (nodes) => nodeRedisClusterStore({ nodes, deploymentCheck: false })
  }
  throw new Error(`usage: node scripts/measure-durable-delete.mjs <redis|node-redis> [deletes=3000]; not ${name}`)
}
