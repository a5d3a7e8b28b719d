import { findingsOf } from '@tiercache/redis-common'
import { RedisCluster, RedisStandalone, testCluster } from '@tiercache/testkit'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { type RedisRemoteStore, redisClusterStore, redisStore } from '../src/index.js'
import { failSlots } from './admin.js'
import { type LogRecord, recordingLogger } from './engine/helpers.js'

const stores: RedisRemoteStore[] = []
afterEach(async () => {
  await Promise.allSettled(stores.splice(0).map((store) => store.close()))
})

function track(store: RedisRemoteStore): RedisRemoteStore {
  stores.push(store)
  return store
}

function warnings(records: readonly LogRecord[]): string[] {
  return records.filter((record) => record.level === 'warn').map((record) => record.msg ?? '')
}

async function masterAddresses(): Promise<string> {
  const masters = await testCluster().masters()
  return masters
    .map((master) => master.port)
    .sort((a, b) => a - b)
    .map((port) => `127.0.0.1:${port}`)
    .join(', ')
}

describe('start-up check of the deployment on the test cluster (maxmemory 0, noeviction, cluster-require-full-coverage no)', () => {
  it('warns once per risk, naming every master, when the client becomes ready', async () => {
    const logger = recordingLogger()
    track(redisClusterStore({ nodes: testCluster().seeds(), logger }))
    const masters = await masterAddresses()
    // Nobody asks for the check: it runs by itself once the cluster client is ready.
    await vi.waitFor(() => expect(warnings(logger.records)).toHaveLength(2), { timeout: 10_000, interval: 20 })
    expect(warnings(logger.records)).toEqual([
      `maxmemory is 0 (no limit) on ${masters}: Redis grows until the host runs out of memory; set maxmemory (e.g. 75% of the memory the node may use) with an evicting maxmemory-policy`,
      `maxmemory-policy is noeviction on ${masters}: once maxmemory is reached every cache write fails (OOM) instead of evicting old entries; use allkeys-lru or allkeys-lfu`,
    ])
    expect(logger.records.filter((record) => record.level === 'warn').map((record) => record.obj.check)).toEqual([
      'maxmemory-unset',
      'noeviction',
    ])
  })

  it('resolves deploymentCheck() with the same findings, logged only once however often it is asked', async () => {
    const logger = recordingLogger()
    const store = track(redisClusterStore({ nodes: testCluster().seeds(), logger }))
    const [first, second] = await Promise.all([store.deploymentCheck(), store.deploymentCheck()])
    expect(first.map((finding) => [finding.code, finding.severity, finding.nodes.length])).toEqual([
      ['maxmemory-unset', 'risk', 3],
      ['noeviction', 'risk', 3],
    ])
    expect(second).toBe(first)
    expect(await store.deploymentCheck()).toBe(first)
    expect(warnings(logger.records)).toHaveLength(2)
  })

  it('warns when a single seed node is given', async () => {
    const logger = recordingLogger()
    const [seed] = testCluster().seeds()
    if (seed === undefined) throw new Error('no seed')
    const store = track(redisClusterStore({ nodes: [seed], logger }))
    await store.deploymentCheck()
    expect(warnings(logger.records)[0]).toBe(
      `only one seed node given (127.0.0.1:${seed.port}): if it is down when a service starts, the store cannot find the cluster; list several nodes, e.g. one per shard`,
    )
    expect(warnings(logger.records)).toHaveLength(3)
  })

  it('runs nothing with deploymentCheck: false until asked', async () => {
    const [checked, unchecked] = [recordingLogger(), recordingLogger()]
    const seeds = testCluster().seeds()
    track(redisClusterStore({ nodes: seeds, logger: checked }))
    const store = track(redisClusterStore({ nodes: seeds, logger: unchecked, deploymentCheck: false }))
    // Started together: by the time the first store's check has logged, the second's would have too.
    await vi.waitFor(() => expect(warnings(checked.records)).toHaveLength(2), { timeout: 10_000, interval: 20 })
    await store.get('{tc-check}:warm-up')
    expect(warnings(unchecked.records)).toEqual([])
    await store.deploymentCheck()
    expect(warnings(unchecked.records)).toHaveLength(2)
  })
})

describe('start-up check of the deployment on a standalone Redis of its own', () => {
  let redis: RedisStandalone
  beforeAll(async () => {
    redis = await RedisStandalone.start()
  })
  afterAll(async () => {
    await redis?.stop()
  })

  it('logs nothing when maxmemory is set and the policy evicts', async () => {
    await redis.command(['CONFIG', 'SET', 'maxmemory', '64mb'])
    await redis.command(['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru'])
    const logger = recordingLogger()
    const store = track(redisStore({ host: redis.host, port: redis.port, logger }))
    expect(await store.deploymentCheck()).toEqual([])
    expect(warnings(logger.records)).toEqual([])
  })

  it('warns when a restart would reload old data: RDB snapshots on, or the file of a full sync kept', async () => {
    await redis.command(['CONFIG', 'SET', 'maxmemory', '64mb'])
    await redis.command(['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru'])
    const address = `127.0.0.1:${redis.port}`
    const fix =
      'values invalidated after it was saved come back whenever such a node serves before it resyncs (a master restarted before its failover, a replica promoted before its sync ends); for a cache turn persistence off and let replicas delete that file (CONFIG SET save "", appendonly no, rdb-del-sync-files yes, and in redis.conf)'
    try {
      await redis.command(['CONFIG', 'SET', 'rdb-del-sync-files', 'no'])
      const kept = recordingLogger()
      const findings = await track(redisStore({ host: redis.host, port: redis.port, logger: kept })).deploymentCheck()
      expect(findings.map((finding) => [finding.code, finding.severity, finding.nodes])).toEqual([['stale-restart', 'risk', [address]]])
      expect(warnings(kept.records)).toEqual([
        `a restart reloads old data on ${address} (the RDB of its last full sync as a replica is kept: rdb-del-sync-files no): ${fix}`,
      ])
      await redis.command(['CONFIG', 'SET', 'save', '3600 1'])
      const snapshots = recordingLogger()
      await track(redisStore({ host: redis.host, port: redis.port, logger: snapshots })).deploymentCheck()
      expect(warnings(snapshots.records)).toEqual([`a restart reloads old data on ${address} (RDB snapshots on: save "3600 1"): ${fix}`])
      // An append-only file holds the deletions too: nothing old comes back.
      await redis.command(['CONFIG', 'SET', 'appendonly', 'yes'])
      expect(await track(redisStore({ host: redis.host, port: redis.port })).deploymentCheck()).toEqual([])
    } finally {
      await redis.command(['CONFIG', 'SET', 'appendonly', 'no'])
      await redis.command(['CONFIG', 'SET', 'save', ''])
      await redis.command(['CONFIG', 'SET', 'rdb-del-sync-files', 'yes'])
    }
    expect(await track(redisStore({ host: redis.host, port: redis.port })).deploymentCheck()).toEqual([])
  })

  it('says once that CONFIG is not permitted, and nothing about what it could not see', async () => {
    await redis.command(['CONFIG', 'SET', 'maxmemory', '0'])
    await redis.command(['ACL', 'SETUSER', 'no-config', 'on', '>secret', '~*', '&*', '+@all', '-config'])
    const logger = recordingLogger()
    const store = track(redisStore({ host: redis.host, port: redis.port, username: 'no-config', password: 'secret', logger }))
    const findings = await store.deploymentCheck()
    expect(findings.map((finding) => [finding.code, finding.severity])).toEqual([['config-unchecked', 'note']])
    expect(warnings(logger.records)).toEqual([
      `CONFIG GET is not permitted on 127.0.0.1:${redis.port} (NOPERM this user has no permissions to run the 'config|get' command): maxmemory, maxmemory-policy and persistence were not checked; check them with your provider or operator`,
    ])
  })
})

describe('start-up check of a cluster that is not ok (cluster-require-full-coverage yes, the Redis default)', () => {
  let cluster: RedisCluster
  beforeAll(async () => {
    cluster = await RedisCluster.start({ masters: 1, replicasPerMaster: 0 })
  })
  afterAll(async () => {
    await cluster?.stop()
  })

  it('asks the seed nodes when the client cannot get ready, and warns about the cluster state and the slots without a master', async () => {
    const [seed] = cluster.seeds()
    if (seed === undefined) throw new Error('no node')
    await failSlots(cluster, seed.port)
    const logger = recordingLogger()
    const store = track(redisClusterStore({ nodes: [seed], logger }))
    await vi.waitFor(() => expect(warnings(logger.records)).toHaveLength(6), { timeout: 20_000, interval: 50 })
    expect(store.client.status).not.toBe('ready')
    const address = `127.0.0.1:${seed.port}`
    expect(warnings(logger.records)).toEqual([
      `only one seed node given (${address}): if it is down when a service starts, the store cannot find the cluster; list several nodes, e.g. one per shard`,
      `cluster_state is not ok on ${address}: the cluster refuses reads and writes there (CLUSTERDOWN) until every slot has a live master`,
      '100 of 16384 hash slots have no master (0-99): keys that hash there can be neither read nor written; assign them (redis-cli --cluster fix)',
      `cluster-require-full-coverage is yes on ${address}: while one master is down (until its replica is promoted, or for good without one) the cluster refuses every slot, so one dead shard takes the whole cache down; for a cache set it to no (CONFIG SET cluster-require-full-coverage no, and in redis.conf) so only the dead shard's keys are refused`,
      `maxmemory is 0 (no limit) on ${address}: Redis grows until the host runs out of memory; set maxmemory (e.g. 75% of the memory the node may use) with an evicting maxmemory-policy`,
      `maxmemory-policy is noeviction on ${address}: once maxmemory is reached every cache write fails (OOM) instead of evicting old entries; use allkeys-lru or allkeys-lfu`,
    ])
  })
})

describe('findings', () => {
  const healthy = { address: '10.0.0.1:6379', reachable: true, maxmemory: 1 << 30, maxmemoryPolicy: 'allkeys-lfu', clusterState: 'ok' }

  it('finds nothing on a healthy cluster given several seeds', () => {
    expect(findingsOf({ kind: 'cluster', seeds: ['10.0.0.1:6379', '10.0.0.2:6379'], nodes: [healthy], uncoveredSlots: [] })).toEqual([])
  })

  it('reports a failed cluster state, uncovered slots and unreachable nodes, in that order after the seeds', () => {
    const findings = findingsOf({
      kind: 'cluster',
      seeds: ['10.0.0.1:6379'],
      nodes: [
        { ...healthy, clusterState: 'fail' },
        { address: '10.0.0.2:6379', reachable: false, error: 'connect ECONNREFUSED 10.0.0.2:6379' },
      ],
      uncoveredSlots: [
        [0, 99],
        [16_000, 16_383],
      ],
    })
    expect(findings.map((finding) => finding.code)).toEqual(['single-seed', 'node-unreachable', 'cluster-state', 'slots-uncovered'])
    expect(findings[1]?.message).toBe('10.0.0.2:6379 did not answer (connect ECONNREFUSED 10.0.0.2:6379)')
    expect(findings[2]?.message).toBe(
      'cluster_state is not ok on 10.0.0.1:6379: the cluster refuses reads and writes there (CLUSTERDOWN) until every slot has a live master',
    )
    expect(findings[3]?.message).toBe(
      '484 of 16384 hash slots have no master (0-99, 16000-16383): keys that hash there can be neither read nor written; assign them (redis-cli --cluster fix)',
    )
  })

  it('reports the nodes a restart would reload old data on, each reason once, and nothing for a node that did not say', () => {
    const findings = findingsOf({
      kind: 'cluster',
      seeds: ['10.0.0.1:6379', '10.0.0.2:6379'],
      nodes: [
        { ...healthy, address: '10.0.0.2:6379', appendOnly: false, save: '', rdbDelSyncFiles: false },
        { ...healthy, address: '10.0.0.1:6379', appendOnly: false, save: '', rdbDelSyncFiles: false },
        { ...healthy, address: '10.0.0.3:6379', appendOnly: false, save: '60 1000', rdbDelSyncFiles: true },
        { ...healthy, address: '10.0.0.4:6379', appendOnly: true, save: '60 1000', rdbDelSyncFiles: false },
        { ...healthy, address: '10.0.0.5:6379', appendOnly: false, save: '', rdbDelSyncFiles: true },
        // Redis before 6.2 has no rdb-del-sync-files, and a CONFIG that was refused says nothing.
        { ...healthy, address: '10.0.0.6:6379', appendOnly: false, save: '' },
        { ...healthy, address: '10.0.0.7:6379' },
      ],
      uncoveredSlots: [],
    })
    expect(findings.map((finding) => [finding.code, finding.nodes])).toEqual([
      ['stale-restart', ['10.0.0.1:6379', '10.0.0.2:6379', '10.0.0.3:6379']],
    ])
    expect(findings[0]?.message).toMatch(
      /^a restart reloads old data on 10\.0\.0\.1:6379, 10\.0\.0\.2:6379, 10\.0\.0\.3:6379 \(the RDB of its last full sync as a replica is kept: rdb-del-sync-files no; RDB snapshots on: save "60 1000"\): /,
    )
  })

  it('names a single Sentinel as the single seed of a Sentinel deployment, and never a standalone server', () => {
    expect(findingsOf({ kind: 'sentinel', seeds: ['10.0.0.9:26379'], nodes: [healthy] })[0]?.message).toBe(
      'only one Sentinel given (10.0.0.9:26379): if it is down, the store cannot find the primary; list every Sentinel',
    )
    expect(findingsOf({ kind: 'standalone', seeds: ['10.0.0.1:6379'], nodes: [healthy] })).toEqual([])
  })
})
