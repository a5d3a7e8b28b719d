/**
 * One master of three killed under load (issue 16): what a dead shard costs the healthy ones.
 * On a local Redis Cluster of 3 masters + 3 replicas started by the testkit, one tiercache
 * instance with `l1: false` (every read asks L2), 64 concurrent readers over 3,000 warm keys,
 * then SIGKILL of one master. Printed, per loader kind:
 *   - loads of healthy-shard keys as a share of their reads in the 8 s after the kill (goal <= 2%);
 *   - caller errors (goal 0) and the slowest read;
 *   - time from the promotion (as the testkit sees it) to the last load of a dead-shard key: every
 *     key was warm in L2, so from then on its reads are L2 hits again;
 *   - reads over 1 s.
 * Loader kinds: `query` yields to the event loop like a database query; `cpu` never yields (an
 * in-process computation), so reads served without L2 run without any I/O.
 *
 * Breakers are per shard: the store's `shardOf`, or the cluster's live topology for a store that
 * does not name its shards. Every node runs with `cluster-require-full-coverage no`, as
 * recommended for a cache.
 *
 * Run: pnpm run build && node apps/bench/dist/shard-kill.js [runs per kind, default 1]
 */
import { createCache, KeyBuilder, type RemoteStore } from '@tiercache/core'
import { redisClusterStore } from '@tiercache/redis'
import { RedisCluster } from '@tiercache/testkit'

const KEYS = 3_000
const READERS = 64
const WINDOW_MS = 8_000
const runs = Number(process.argv[2] ?? 1)

type LoaderKind = 'query' | 'cpu'

async function run(cluster: RedisCluster, kind: LoaderKind): Promise<string> {
  await cluster.ensureHealthy({ timeoutMs: 90_000 })
  // One dead master must not make Redis refuse every other slot (set again: a restarted node reads its config file).
  for (const node of cluster.nodes) await cluster.command(node.port, ['CONFIG', 'SET', 'cluster-require-full-coverage', 'no'])
  const namespace = `shardkill-${Math.random().toString(36).slice(2, 8)}`
  // The cluster store names its shards (the owning master) and reports failovers itself.
  const store: RemoteStore = redisClusterStore({ nodes: cluster.seeds() })
  const cache = createCache({ namespace, l2: store, entities: { product: { ttl: '10m', l1: false, hot: false } } })
  await cache.ready()
  const products = cache.entity<{ id: string }>('product')
  const keys = new KeyBuilder(namespace, 'product')
  const ids = Array.from({ length: KEYS }, (_, i) => `p${i}`)
  const victim = (await cluster.masters())[0]
  if (victim === undefined) throw new Error('no master to kill')
  const victimIds = new Set<string>()
  for (const id of ids) if ((await cluster.masterForKey(keys.valueKey(id))).id === victim.id) victimIds.add(id)

  let killedAt = Number.POSITIVE_INFINITY
  let promotedAt = Number.POSITIVE_INFINITY
  const c = { healthyReads: 0, healthyLoads: 0, errors: 0, slow: 0, slowest: 0, lastDeadLoad: 0 }
  const inWindow = (t: number) => t >= killedAt && t < killedAt + WINDOW_MS
  const loadOf = async (id: string) => {
    const now = performance.now()
    if (inWindow(now) && !victimIds.has(id)) c.healthyLoads++
    if (victimIds.has(id) && now >= killedAt) c.lastDeadLoad = now
    if (kind === 'query') await new Promise<void>((resolve) => setImmediate(resolve))
    return { id }
  }
  for (let i = 0; i < ids.length; i += 100) await Promise.all(ids.slice(i, i + 100).map((id) => products.get(id, loadOf)))
  let stopped = false
  const reader = async () => {
    while (!stopped) {
      const id = ids[Math.floor(Math.random() * ids.length)] as string
      const started = performance.now()
      try {
        await products.get(id, loadOf)
      } catch {
        c.errors++
      }
      const took = performance.now() - started
      if (started >= killedAt) {
        c.slowest = Math.max(c.slowest, took)
        if (took > 1_000) c.slow++
      }
      if (inWindow(started) && !victimIds.has(id)) c.healthyReads++
    }
  }
  const readers = Array.from({ length: READERS }, reader)
  await new Promise((resolve) => setTimeout(resolve, 1_000))
  killedAt = performance.now()
  await cluster.kill(victim.port)
  await cluster.waitForFailover(victim.port, { timeoutMs: 60_000 })
  promotedAt = performance.now()
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, killedAt + WINDOW_MS - performance.now()) + 2_000))
  stopped = true
  await Promise.all(readers)
  await cache.close()
  await cluster.restart(victim.port)
  const share = (100 * c.healthyLoads) / Math.max(1, c.healthyReads)
  return (
    `loader ${kind}: healthy-shard loads ${c.healthyLoads} of ${c.healthyReads} reads in ${WINDOW_MS / 1000} s after the kill (${share.toFixed(2)}%), ` +
    `caller errors ${c.errors}, slowest read ${Math.round(c.slowest)} ms, reads over 1 s ${c.slow}, ` +
    `promotion ${Math.round(promotedAt - killedAt)} ms after the kill, last dead-shard load ${Math.round(c.lastDeadLoad - promotedAt)} ms after it`
  )
}

const cluster = await RedisCluster.start({ masters: 3, replicasPerMaster: 1 })
try {
  for (let i = 0; i < runs; i++) for (const kind of ['query', 'cpu'] as const) console.log(await run(cluster, kind))
} finally {
  await cluster.stop()
}
