import { createCache, type EntityOptions, KeyBuilder, type RemoteStore } from '@tiercache/core'
import { describe, expect, it, vi } from 'vitest'
import { recordingLogger } from './helpers/recording-logger.js'
import { TEST_L2_TIMEOUT } from './loaded-machine.js'
import type { RedisCluster } from './redis-cluster.js'
import { keyInSlots, topologyChanges } from './shard-test-helpers.js'
import { testCluster } from './test-context.js'

// The durable-delete tests every Redis store runs on the test cluster, each given the store (or a
// factory of stores) to test: the ioredis and the node-redis store share them.

/** A store that deletes durably and reports its shards. */
export type DurableStore = RemoteStore & Required<Pick<RemoteStore, 'deleteDurably' | 'shardOf' | 'onTopologyChange'>>

/**
 * The store-level durable-delete tests on the test cluster, for the cluster store `open` makes
 * (with `replicaAckTimeoutMs` when given; the caller closes the stores after each test, e.g.
 * through `openedStores`).
 */
export function describeDurableDeletes(name: string, open: (replicaAckTimeoutMs?: number) => DurableStore): void {
  describe(name, () => {
    it('confirms a delete once a replica has it', async () => {
      await expectDurableDeleteConfirmed(testCluster(), open(2_000), 'd')
    })

    it('reports a delete no replica received as unconfirmed, and deleting it again after the failover removes it from the promoted replica', async () => {
      await expectUnconfirmedDeleteRepairedAfterFailover(testCluster(), open(), 'f')
    })

    it('waits for a replica connected to the master that CLUSTER SLOTS does not list yet (restarted, its full sync under way)', async () => {
      await expectSyncingReplicaWaitedFor(testCluster(), open, 's')
    }, 90_000)
  })
}

/**
 * The engine-level durable-invalidation tests every Redis store runs on the test cluster, each on
 * new stores from `makeStore`: an invalidation, a `set` and a hot key's copy tombstone that no
 * replica confirmed, each followed by a failover of the master that holds the old value.
 */
export function describeDurableInvalidation(name: string, makeStore: () => RemoteStore): void {
  describe(name, () => {
    it('an invalidation no replica confirmed is applied again after the failover: no instance reads the old value later than 1 s after the cluster is whole', async () => {
      await expectDurableInvalidationWithinOneSecond(testCluster(), makeStore)
    }, 180_000)

    it('a set no replica confirmed is undone after the failover (the old value deleted, the next read loads): no instance reads the old value later than 1 s after the cluster is whole', async () => {
      await expectDurableInvalidationWithinOneSecond(testCluster(), makeStore, 'set')
    }, 180_000)

    it("a hot key's copy whose tombstone no replica confirmed is tombstoned again after the failover: no instance reads the old value later than 1 s after the failover", async () => {
      await expectDurableHotKeyInvalidationWithinOneSecond(testCluster(), makeStore)
    }, 180_000)
  })
}

/**
 * Expects `store` to confirm a durable delete of keys on every master (each has a replica), and the
 * keys to be gone. Each master's replica is first seen to acknowledge (a replica still syncing
 * after an earlier test's failover would make the store's short wait time out); the store waits
 * up to 2 s, as a loaded test machine can be slower than the default 50 ms.
 */
async function expectDurableDeleteConfirmed(cluster: RedisCluster, store: DurableStore, prefix: string): Promise<void> {
  const keys = [keyInSlots([0, 5_000], prefix), keyInSlots([5_500, 10_000], prefix), keyInSlots([11_000, 16_383], prefix)]
  await Promise.all(keys.map((key) => store.set(key, 'v', 60_000)))
  for (const key of keys) expect(await cluster.command((await cluster.masterForKey(key)).port, ['WAIT', 1, 10_000])).toBe(1)
  expect(await store.deleteDurably(keys)).toEqual({ unconfirmed: [] })
  for (const key of keys) expect(await store.get(key)).toBeNull()
}

/**
 * Expects a durable delete to wait for a replica that is connected to the key's master but that
 * `CLUSTER SLOTS` leaves out (a restarted replica, its offset 0 until its full sync is done): the
 * slot map lists no replica, yet a failover could promote it with the data of its sync's snapshot.
 * The master holds the sync (`repl-diskless-sync-delay`), so the replica acknowledges nothing and
 * the delete is reported unconfirmed; a store that trusted the slot map alone confirmed it at once
 * (chaos run 11, docs/failure-behaviour.md).
 */
async function expectSyncingReplicaWaitedFor(
  cluster: RedisCluster,
  open: (replicaAckTimeoutMs?: number) => DurableStore,
  prefix: string,
): Promise<void> {
  const key = keyInSlots([0, 16_383], prefix)
  const master = await cluster.masterForKey(key)
  const replica = (await cluster.replicas()).find((r) => r.masterId === master.id)
  if (replica === undefined) throw new Error('the master has no replica')
  await cluster.command(master.port, ['SET', key, 'old'])
  await cluster.command(master.port, ['CONFIG', 'SET', 'repl-diskless-sync', 'yes', 'repl-diskless-sync-delay', '60'])
  try {
    await cluster.kill(replica.port)
    await cluster.restart(replica.port)
    const slot = cluster.keySlot(key)
    await vi.waitFor(
      async () => {
        const info = String(await cluster.command(master.port, ['INFO', 'replication']))
        expect(info).toMatch(/connected_slaves:1\b/)
        expect(info).toMatch(/state=wait_bgsave/)
        const ranges = (await cluster.command(master.port, ['CLUSTER', 'SLOTS'])) as [number, number, ...unknown[]][]
        const range = ranges.find(([first, last]) => first <= slot && slot <= last)
        // Master only: the replica is not listed.
        expect(range?.length).toBe(3)
      },
      { timeout: 30_000, interval: 50 },
    )
    // One answered call first, so the store has its slot map (read now: the replica is not in it).
    // A node-redis store opened while a node restarts may get a slot table without the key's slot
    // (its read then throws a TypeError): such a store is left for the next test's cleanup and a new
    // one is opened.
    let store = open(500)
    await vi.waitFor(
      async () => {
        try {
          await store.get(key)
        } catch (error) {
          store = open(500)
          throw error
        }
      },
      { timeout: 30_000, interval: 200 },
    )
    expect(await store.deleteDurably([key])).toEqual({ unconfirmed: [{ key, shard: `127.0.0.1:${master.port}` }] })
    expect(await cluster.command(master.port, ['GET', key])).toBeNull()
  } finally {
    await cluster.command(master.port, ['CONFIG', 'SET', 'repl-diskless-sync-delay', '0'])
  }
}

/**
 * Makes the replica of a key's master hold the old value for good, so that a failover would bring
 * it back: waits until the replica has it, freezes it, then cuts its link from the master's side.
 * A frozen replica cannot reconnect, and the master then has no replica connection to write a
 * later `DEL` into, so nothing of it sits in any socket buffer (a SIGSTOP alone would not do: what
 * the master sent meanwhile would be read on SIGCONT). Resolves with the master's and the
 * replica's ports; the caller resumes the replica.
 */
export async function isolateReplicaOf(cluster: RedisCluster, key: string): Promise<{ master: number; replica: number }> {
  const master = await cluster.masterForKey(key)
  const replica = (await cluster.replicas()).find((r) => r.masterId === master.id)
  if (replica === undefined) throw new Error('the master has no replica')
  expect(await cluster.command(master.port, ['WAIT', 1, 5_000])).toBe(1)
  await cluster.pause(replica.port)
  expect(await cluster.command(master.port, ['CLIENT', 'KILL', 'TYPE', 'replica'])).toBe(1)
  return { master: master.port, replica: replica.port }
}

/**
 * Expects `store` to report a durable delete no replica received as unconfirmed (with its shard),
 * to report the failover that follows on that shard, and a delete applied again after it (what the
 * engine's outbox does) to remove the old value from the promoted replica.
 */
async function expectUnconfirmedDeleteRepairedAfterFailover(cluster: RedisCluster, store: DurableStore, prefix: string): Promise<void> {
  const key = keyInSlots([0, 16_383], prefix)
  await store.set(key, 'old', 60_000)
  const { master, replica } = await isolateReplicaOf(cluster, key)
  const seen = topologyChanges(store)
  const shard = `127.0.0.1:${master}`
  expect(await store.deleteDurably([key])).toEqual({ unconfirmed: [{ key, shard }] })
  // The master dies before any replica learned of the delete; the replica wakes and is promoted.
  await cluster.kill(master)
  await cluster.resume(replica)
  const promoted = await cluster.waitForFailover(master)
  expect(promoted.port).toBe(replica)
  expect(await cluster.command(promoted.port, ['GET', key])).toBe('old')
  await vi.waitFor(() => expect(seen.some((change) => change.shards.includes(shard))).toBe(true), { timeout: 10_000, interval: 20 })
  expect(seen.find((change) => change.shards.includes(shard))?.shards).toContain(`127.0.0.1:${promoted.port}`)
  expect(store.shardOf(key)).toBe(`127.0.0.1:${promoted.port}`)
  // What the engine's outbox does after that shard's topology change: delete again, durably.
  await vi.waitFor(async () => expect(await store.deleteDurably([key])).toEqual({ unconfirmed: [] }), { timeout: 10_000, interval: 50 })
  expect(await cluster.command(promoted.port, ['GET', key])).toBeNull()
  expect(await store.get(key)).toBeNull()
}

/**
 * The engine end to end on `makeStore` (a new cluster store per call): two instances, an
 * invalidation (`change: 'invalidate'`) or a write (`'set'`) no replica confirmed (the replica
 * isolated, then promoted with the old value after the master dies), and no instance may read the
 * old value later than 1 s after the cluster is whole again. Heals the cluster before it resolves.
 */
export async function expectDurableInvalidationWithinOneSecond(
  cluster: RedisCluster,
  makeStore: () => RemoteStore,
  change: 'invalidate' | 'set' = 'invalidate',
): Promise<void> {
  const { namespace, caches, writer, reader } = await writerAndReader(makeStore, false)
  let database = 'old'
  const load = async () => database
  const key = new KeyBuilder(namespace, 'product').valueKey('k')
  let replica: number | undefined
  try {
    expect(await writer.get('k', load)).toBe('old')
    const ports = await isolateReplicaOf(cluster, key)
    replica = ports.replica
    database = 'new'
    if (change === 'set') await writer.set('k', 'new')
    else await writer.invalidate('k')
    await cluster.kill(ports.master)
    await cluster.resume(ports.replica)
    await cluster.waitForFailover(ports.master, { timeoutMs: 30_000 })
    await cluster.restart(ports.master)
    await cluster.ensureHealthy({ timeoutMs: 60_000 })
    expect(await oldReadsLaterThanOneSecond(reader, load, performance.now())).toEqual([])
    expect(await reader.get('k', load)).toBe('new')
  } finally {
    if (replica !== undefined) await cluster.resume(replica).catch(() => undefined)
    await Promise.all(caches.map((cache) => cache.close()))
    await cluster.ensureHealthy({ timeoutMs: 60_000 })
  }
}

/**
 * The hot-key variant of {@link expectDurableInvalidationWithinOneSecond}: a key declared hot has
 * copies on every master, and a write (`set`) replaces each with a tombstone. The master holding
 * one copy (not the value key's master) cannot replicate when the key is written, and dies: its
 * promoted replica holds the old copy. Readers that pick another copy find its tombstone and the
 * new value under the value key, and repair only the copy they picked, so nothing else overwrites
 * the old one. No instance may read the old value later than 1 s after the failover was seen (a
 * copy lives up to 10 s, so a tombstone that was never applied again would be read well past
 * that), nor after the cluster is whole.
 */
export async function expectDurableHotKeyInvalidationWithinOneSecond(cluster: RedisCluster, makeStore: () => RemoteStore): Promise<void> {
  const { namespace, caches, writer, reader } = await writerAndReader(makeStore, { keys: ['k'], l1Ttl: 0, replicas: 3 })
  let database = 'old'
  const load = async () => database
  const keys = new KeyBuilder(namespace, 'product')
  let replica: number | undefined
  try {
    expect(await writer.get('k', load)).toBe('old')
    const copy = await copyOnAnotherMaster(cluster, keys, 'k')
    const ports = await isolateReplicaOf(cluster, copy)
    replica = ports.replica
    database = 'new'
    await writer.set('k', 'new')
    await cluster.kill(ports.master)
    await cluster.resume(ports.replica)
    await cluster.waitForFailover(ports.master, { timeoutMs: 30_000 })
    const promotedAt = performance.now()
    const late = await oldReadsLaterThanOneSecond(reader, load, promotedAt)
    await cluster.restart(ports.master)
    await cluster.ensureHealthy({ timeoutMs: 60_000 })
    late.push(...(await oldReadsLaterThanOneSecond(reader, load, performance.now())))
    expect(late).toEqual([])
    expect(await reader.get('k', load)).toBe('new')
  } finally {
    if (replica !== undefined) await cluster.resume(replica).catch(() => undefined)
    await Promise.all(caches.map((cache) => cache.close()))
    await cluster.ensureHealthy({ timeoutMs: 60_000 })
  }
}

/**
 * Two instances on new stores (`makeStore`) sharing a fresh namespace, without L1 so every read
 * goes to L2: the writer's and the reader's handle of their `product` entity (`hot` as given).
 */
async function writerAndReader(makeStore: () => RemoteStore, hot: EntityOptions['hot']) {
  const namespace = `t${Math.random().toString(36).slice(2, 10)}`
  const caches = [0, 1].map(() =>
    createCache({
      namespace,
      logger: recordingLogger(),
      l2Timeout: TEST_L2_TIMEOUT,
      entities: { product: { ttl: '5m', l1: false, hot } },
      l2: makeStore(),
    }),
  )
  await Promise.all(caches.map((cache) => cache.ready()))
  return { namespace, caches, writer: caches[0]!.entity<string>('product'), reader: caches[1]!.entity<string>('product') }
}

/**
 * A hot-key copy of `id` that the read wrote on a master other than the value key's: waits until
 * one is there (copies are written behind the read).
 */
async function copyOnAnotherMaster(cluster: RedisCluster, keys: KeyBuilder, id: string): Promise<string> {
  const valueMaster = (await cluster.masterForKey(keys.valueKey(id))).port
  let found: string | undefined
  await vi.waitFor(
    async () => {
      for (let n = 0; n < 64 && found === undefined; n++) {
        const key = keys.replicaKey(id, n)
        const master = (await cluster.masterForKey(key)).port
        if (master !== valueMaster && (await cluster.command(master, ['GET', key])) !== null) found = key
      }
      expect(found).toBeDefined()
    },
    { timeout: 10_000, interval: 50 },
  )
  return found as string
}

/** Reads `id` 'k' every 20 ms for 2 s from `from`; the reads that returned 'old' later than 1 s after it. */
async function oldReadsLaterThanOneSecond(
  reader: { get(id: string, load: () => Promise<string>): Promise<string> },
  load: () => Promise<string>,
  from: number,
): Promise<string[]> {
  const late: string[] = []
  while (performance.now() - from < 2_000) {
    const startedAt = performance.now()
    const value = await reader.get('k', load)
    if (value === 'old' && startedAt - from > 1_000) late.push(`${Math.round(startedAt - from)} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return late
}
