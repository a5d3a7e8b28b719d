import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createCache } from '@tiercache/core'
import { RedisCluster, RedisStandalone, testCluster } from '@tiercache/testkit'
import { Cluster } from 'ioredis'
import { afterAll, describe, expect, it, vi } from 'vitest'
import type { DoctorReport } from '../src/doctor/doctor.js'
import { failSlots } from './admin.js'
import { type Run, seeds, tiercache } from './cli-run.js'
import { uniqueNamespace } from './engine/helpers.js'

function json(run: Run): DoctorReport {
  if (run.stdout.trim() === '') throw new Error(`no output; stderr: ${run.stderr}`)
  return JSON.parse(run.stdout) as DoctorReport
}

const cleanups: (() => Promise<unknown>)[] = []
afterAll(async () => {
  await Promise.allSettled(cleanups.map((cleanup) => cleanup()))
})

describe('tiercache doctor on the test cluster (3 masters, 3 replicas, maxmemory 0, noeviction)', () => {
  it('reports topology, memory and keyspace per node as JSON, and exits 1 for the risks it finds', async () => {
    const [masters, replicas] = await Promise.all([testCluster().masters(), testCluster().replicas()])
    const run = await tiercache(['doctor', '--nodes', seeds(), '--json'])
    expect(run.code).toBe(1)
    const report = json(run)
    expect(report.topology.kind).toBe('cluster')
    expect(report.topology.uncoveredSlots).toEqual([])
    expect(report.topology.shards.map((shard) => shard.master).sort()).toEqual(masters.map((m) => `127.0.0.1:${m.port}`).sort())
    for (const shard of report.topology.shards) {
      const master = masters.find((m) => `127.0.0.1:${m.port}` === shard.master)
      expect(shard.slots).toEqual(master?.slots)
      expect(shard.replicas).toEqual(replicas.filter((r) => r.masterId === master?.id).map((r) => `127.0.0.1:${r.port}`))
    }
    expect(report.nodes).toHaveLength(6)
    expect(report.nodes.map((node) => node.role).sort()).toEqual(['master', 'master', 'master', 'replica', 'replica', 'replica'])
    for (const node of report.nodes) {
      expect(node).toMatchObject({ reachable: true, maxmemory: 0, maxmemoryPolicy: 'noeviction', clusterState: 'ok' })
      expect(typeof node.keyspaceHits).toBe('number')
      expect(typeof node.keyspaceMisses).toBe('number')
      expect(node.usedMemory).toBeGreaterThan(0)
    }
    expect(report.findings.map((finding) => [finding.code, finding.nodes.length])).toEqual([
      ['maxmemory-unset', 6],
      ['noeviction', 6],
    ])
    expect(report.risks).toBe(2)
  })

  it('prints the same for a person', async () => {
    const masters = await testCluster().masters()
    const run = await tiercache(['doctor', '--nodes', seeds()])
    expect(run.code).toBe(1)
    expect(run.stdout).toContain('tiercache doctor: Redis Cluster, 3 masters, 3 replicas')
    for (const master of masters) {
      const [first, last] = master.slots[0] ?? [0, 0]
      expect(run.stdout).toContain(`  master 127.0.0.1:${master.port}  slots ${first}-${last} (${last - first + 1})`)
    }
    expect(run.stdout).toMatch(/^ {2}address +role +used +maxmemory +policy +keys +hits +misses +hit rate +evicted$/m)
    expect(run.stdout).toMatch(/^ {2}127\.0\.0\.1:\d+ +master +\S+ +0 \(none\) +noeviction /m)
    expect(run.stdout).toContain('  RISK maxmemory-unset: maxmemory is 0 (no limit) on ')
    expect(run.stdout).toContain('  RISK noeviction: maxmemory-policy is noeviction on ')
    expect(run.stdout.trimEnd().endsWith('2 risks found.')).toBe(true)
  })

  it("counts a namespace's keys exactly, or estimates them from a sample, and says which", async () => {
    const namespace = uniqueNamespace()
    const writer = new Cluster(testCluster().seeds(), { enableAutoPipelining: true })
    cleanups.push(() => writer.quit())
    const ours = [
      ...Array.from({ length: 2_800 }, (_, i) => `{${namespace}:product:${i}}`),
      ...Array.from({ length: 100 }, (_, i) => `${namespace}:product:{u${i}}`),
      ...Array.from({ length: 100 }, (_, i) => `{${namespace}!tag:t${i}}`),
    ]
    const theirs = Array.from({ length: 2_000 }, (_, i) => `{${namespace}x:product:${i}}`)
    await Promise.all([...ours, ...theirs].map((key) => writer.set(key, 'v', 'PX', 600_000)))

    const exact = json(await tiercache(['doctor', '--nodes', seeds(), '--namespace', namespace, '--json']))
    expect(exact.namespace).toMatchObject({ namespace, method: 'exact', keys: ours.length })
    expect(exact.namespace?.masters.every((master) => master.exact && master.examined === master.dbsize)).toBe(true)

    const sampled = json(await tiercache(['doctor', '--nodes', seeds(), '--namespace', namespace, '--sample', '300', '--json']))
    expect(sampled.namespace?.method).toBe('sampled')
    expect(sampled.namespace?.masters.some((master) => master.examined < master.dbsize)).toBe(true)
    // 3,000 of 5,000 keys (60%): a sample of a few hundred keys per master lands well within 25%.
    expect(Math.abs((sampled.namespace?.keys ?? 0) - ours.length)).toBeLessThan(ours.length * 0.25)
    const text = await tiercache(['doctor', '--nodes', seeds(), '--namespace', namespace, '--sample', '300'])
    expect(text.stdout).toMatch(new RegExp(`Namespace "${namespace}"\\n {2}~\\d+ keys \\(estimate: a SCAN sample of `))
  })

  it('lists the hot keys a running service reports with cache.hotKeys()', async () => {
    const cache = createCache({
      namespace: uniqueNamespace(),
      entities: { product: { ttl: '1m', hot: { threshold: { rate: 20 }, window: '200ms', sampleEvery: 1 } } },
    })
    cleanups.push(() => cache.close())
    const server: Server = createServer((_request, response) => {
      response.setHeader('content-type', 'application/json')
      response.end(JSON.stringify(cache.hotKeys()))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    cleanups.push(() => new Promise((resolve) => server.close(resolve)))
    const products = cache.entity('product')
    await vi.waitFor(
      async () => {
        for (let i = 0; i < 50; i++) await products.get('flash-sale', async () => 'deal')
        expect(cache.hotKeys().map((key) => key.id)).toEqual(['flash-sale'])
      },
      { timeout: 10_000, interval: 50 },
    )
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hot-keys`
    const report = json(await tiercache(['doctor', '--nodes', seeds(), '--hot-keys-url', url, '--json']))
    expect(report.hotKeys).toMatchObject({ url, keys: [{ entity: 'product', id: 'flash-sale' }] })
    const text = await tiercache(['doctor', '--nodes', seeds(), '--hot-keys-url', url])
    expect(text.stdout).toMatch(new RegExp(`Hot keys \\(${url.replaceAll('.', '\\.')}\\)\\n {2}product flash-sale {2}\\d+ reads/s`))
  })
})

describe('tiercache doctor elsewhere', () => {
  it('exits 0 on a standalone primary and replica with maxmemory set and an evicting policy', async () => {
    const [primary, replica] = await Promise.all([RedisStandalone.start(), RedisStandalone.start()])
    cleanups.push(
      () => primary.stop(),
      () => replica.stop(),
    )
    for (const node of [primary, replica]) {
      await node.command(['CONFIG', 'SET', 'maxmemory', '64mb'])
      await node.command(['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lfu'])
    }
    await replica.command(['REPLICAOF', primary.host, primary.port])
    await vi.waitFor(async () => expect(String(await primary.command(['INFO', 'replication']))).toContain('state=online'), {
      timeout: 10_000,
    })
    const run = await tiercache(['doctor', '--url', primary.url, '--json'])
    expect(run.code).toBe(0)
    const report = json(run)
    expect(report.topology).toMatchObject({
      kind: 'standalone',
      shards: [{ master: `127.0.0.1:${primary.port}`, replicas: [`127.0.0.1:${replica.port}`] }],
    })
    expect(report.nodes.map((node) => [node.role, node.maxmemory, node.maxmemoryPolicy])).toEqual([
      ['master', 64 * 1024 * 1024, 'allkeys-lfu'],
      ['replica', 64 * 1024 * 1024, 'allkeys-lfu'],
    ])
    expect(report.findings).toEqual([])
    const text = await tiercache(['doctor', '--nodes', `127.0.0.1:${replica.port}`])
    expect(text.code).toBe(0)
    expect(text.stdout).toContain(`  primary 127.0.0.1:${primary.port}\n    replica 127.0.0.1:${replica.port}\n`)
    expect(text.stdout.trimEnd().endsWith('No risk found.')).toBe(true)
  })

  it('finds a failed cluster state and slots without a master, and warns about a single seed', async () => {
    const cluster = await RedisCluster.start({ masters: 1, replicasPerMaster: 0 })
    cleanups.push(() => cluster.stop())
    const [node] = cluster.seeds()
    if (node === undefined) throw new Error('no node')
    await failSlots(cluster, node.port)
    const run = await tiercache(['doctor', '--nodes', `127.0.0.1:${node.port}`, '--json'])
    expect(run.code).toBe(1)
    const report = json(run)
    expect(report.topology.uncoveredSlots).toEqual([[0, 99]])
    expect(report.findings.map((finding) => finding.code)).toEqual([
      'single-seed',
      'cluster-state',
      'slots-uncovered',
      'full-coverage-required',
      'maxmemory-unset',
      'noeviction',
    ])
    expect(report.findings[2]?.message).toBe(
      '100 of 16384 hash slots have no master (0-99): keys that hash there can be neither read nor written; assign them (redis-cli --cluster fix)',
    )
  })

  it('exits 2 when no node answers, and on bad arguments', async () => {
    const unreachable = await tiercache(['doctor', '--nodes', '127.0.0.1:1', '--timeout', '500'])
    expect(unreachable.code).toBe(2)
    expect(unreachable.stderr).toMatch(/^tiercache doctor: no seed node answered: 127\.0\.0\.1:1 \(.*ECONNREFUSED/)
    const nowhere = await tiercache(['doctor'])
    expect(nowhere.code).toBe(2)
    expect(nowhere.stderr).toContain('give one of --nodes, --sentinels or --url')
    const unnamed = await tiercache(['doctor', '--sentinels', '127.0.0.1:26379'])
    expect(unnamed.stderr).toContain('--sentinels needs --name')
    expect((await tiercache(['doctor', '--nodes', 'cache.internal'])).stderr).toContain('not a host:port address: "cache.internal"')
    expect((await tiercache(['--help'])).code).toBe(0)
  })
})
