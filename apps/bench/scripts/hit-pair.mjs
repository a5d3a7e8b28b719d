#!/usr/bin/env node
// The L1 hit and the L2 hit (l1: false) of two builds of tiercache, measured alternately in one
// run so that the machine's drift hits both alike: A B A B ... on one local Redis Cluster.
//
//   node apps/bench/scripts/hit-pair.mjs <repo A> <repo B> [rounds]
//
// Each repo must be built (packages/core/dist, packages/redis/dist). Each round starts one child
// process per build (a fresh V8 for each), which warms its keys, then times, at concurrency 1:
//   l1: 2,000,000 `get`s of 1,000 keys held in L1 (ns of wall time and of process CPU per get);
//   l2: 20,000 `get`s of 5,000 keys held in Redis only (µs per get).
// Prints every round and the median of each figure per build, and the medians' ratio A/B.
import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const L1_OPS = 2_000_000
const L2_OPS = 20_000

async function child(repo, seedsJson, namespace) {
  const core = await import(pathToFileURL(resolve(repo, 'packages/core/dist/index.js')).href)
  const redis = await import(pathToFileURL(resolve(repo, 'packages/redis/dist/index.js')).href)
  const nodes = JSON.parse(seedsJson)
  const cache = core.createCache({
    namespace,
    l2: redis.redisClusterStore({ nodes }),
    // Generous: a loaded 2-core machine must not turn the L2 run into timeouts (the same for both builds).
    l2Timeout: '2s',
    entities: { hot: { ttl: '10m', l1: { ttl: '10m', maxEntries: 10_000 } }, remote: { ttl: '10m', l1: false, hot: false } },
  })
  await cache.ready()
  const value = { id: 0, name: 'product', price: 12.5, tags: ['a', 'b', 'c'], description: 'x'.repeat(200) }
  const loader = async (id) => ({ ...value, id })
  const time = async (ops, run) => {
    const cpu = process.cpuUsage()
    const started = process.hrtime.bigint()
    for (let i = 0; i < ops; i++) await run(i)
    const wallNs = Number(process.hrtime.bigint() - started)
    const used = process.cpuUsage(cpu)
    return { wallNsPerOp: wallNs / ops, cpuNsPerOp: ((used.user + used.system) * 1_000) / ops }
  }
  const l1 = cache.entity('hot')
  const l1Ids = Array.from({ length: 1_000 }, (_, i) => `p${i}`)
  for (const id of l1Ids) await l1.get(id, loader)
  await time(300_000, (i) => l1.get(l1Ids[i % 1_000], loader))
  const l1Figures = await time(L1_OPS, (i) => l1.get(l1Ids[i % 1_000], loader))
  const l2 = cache.entity('remote')
  const l2Ids = Array.from({ length: 5_000 }, (_, i) => `p${i}`)
  for (let i = 0; i < l2Ids.length; i += 100) await Promise.all(l2Ids.slice(i, i + 100).map((id) => l2.get(id, loader)))
  await time(5_000, (i) => l2.get(l2Ids[i % 5_000], loader))
  const before = l2.stats()
  const l2Figures = await time(L2_OPS, (i) => l2.get(l2Ids[i % 5_000], loader))
  const after = l2.stats()
  if (after.l2Hits - before.l2Hits !== L2_OPS || after.loads !== before.loads || after.l2Errors !== before.l2Errors) {
    throw new Error(`the L2 run was not all L2 hits: ${JSON.stringify({ before, after })}`)
  }
  await cache.close()
  console.log(JSON.stringify({ l1: l1Figures, l2: l2Figures }))
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2
}

async function driver(repoA, repoB, rounds) {
  const testkit = await import(pathToFileURL(resolve(fileURLToPath(import.meta.url), '../../../../packages/testkit/dist/index.js')).href)
  const cluster = await testkit.RedisCluster.start()
  const seeds = JSON.stringify(cluster.seeds().map(({ host, port }) => ({ host, port })))
  const results = { A: [], B: [] }
  try {
    for (let round = 0; round < rounds; round++) {
      for (const [name, repo] of [
        ['A', repoA],
        ['B', repoB],
      ]) {
        const run = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', repo, seeds, `bench${name}${round}`], {
          encoding: 'utf8',
        })
        if (run.status !== 0) throw new Error(`${name} round ${round} failed: ${run.stderr}`)
        const figures = JSON.parse(run.stdout.trim().split('\n').at(-1))
        results[name].push(figures)
        console.log(
          `round ${round + 1} ${name}: L1 hit ${figures.l1.wallNsPerOp.toFixed(0)} ns wall, ${figures.l1.cpuNsPerOp.toFixed(0)} ns cpu; ` +
            `L2 hit ${(figures.l2.wallNsPerOp / 1_000).toFixed(1)} µs wall, ${(figures.l2.cpuNsPerOp / 1_000).toFixed(1)} µs cpu`,
        )
      }
    }
  } finally {
    await cluster.stop()
  }
  const row = (pick) => {
    const a = median(results.A.map(pick))
    const b = median(results.B.map(pick))
    return { a, b, ratio: a / b }
  }
  const rows = {
    'L1 hit, ns wall per get': row((f) => f.l1.wallNsPerOp),
    'L1 hit, ns cpu per get': row((f) => f.l1.cpuNsPerOp),
    'L2 hit, µs wall per get': row((f) => f.l2.wallNsPerOp / 1_000),
    'L2 hit, µs cpu per get': row((f) => f.l2.cpuNsPerOp / 1_000),
  }
  console.log(`\nmedians of ${rounds} rounds (A = ${repoA}, B = ${repoB})`)
  for (const [label, { a, b, ratio }] of Object.entries(rows)) {
    console.log(`${label}: A ${a.toFixed(1)}  B ${b.toFixed(1)}  A/B ${ratio.toFixed(3)}`)
  }
}

if (process.argv[2] === '--child') await child(process.argv[3], process.argv[4], process.argv[5])
else await driver(resolve(process.argv[2]), resolve(process.argv[3]), Number(process.argv[4] ?? 5))
