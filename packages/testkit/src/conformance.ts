import { randomUUID } from 'node:crypto'
import type { BusHandlers, RemoteStore } from '@tiercache/core'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { keySlot } from './key-slot.js'
import { EVENTUALLY } from './loaded-machine.js'

// Short TTLs are observed by polling, never by sleeping for the TTL and hoping.
const SHORT_TTL_MS = 50
const LONG_TTL_MS = 60_000

/** What a store under the conformance suite declares about itself; the suite runs the cases that apply. */
export interface StoreCapabilities {
  /**
   * `'many'` for a store over several shards (a Redis Cluster): `spreadKeys` must spread hot-key
   * replicas over them. `'one'` for a single shard (standalone Redis, Sentinel, the in-memory
   * store): `spreadKeys` returns at most one key. Default `'one'`.
   */
  readonly shards?: 'one' | 'many'
}

/**
 * The behaviour every {@link RemoteStore} must have, as a vitest `describe` block that an
 * implementation runs against a real backend (`@tiercache/redis` runs it on the testkit's
 * cluster and on the standalone Redis). `makeStore` is called once for the suite and again for
 * the tests that need a second instance (pub/sub across instances); the suite closes every store
 * it made. Keys carry a unique prefix per test, so the suite needs no flush between tests.
 * Cases that hold only for one shape of store run by the declared `capabilities`, never by name.
 */
export function describeRemoteStoreConformance(
  name: string,
  makeStore: () => Promise<RemoteStore>,
  capabilities: StoreCapabilities = {},
): void {
  const shards = capabilities.shards ?? 'one'
  describe(`RemoteStore conformance: ${name}`, () => {
    let store: RemoteStore
    const stores: RemoteStore[] = []
    let prefix = ''

    const newStore = async (): Promise<RemoteStore> => {
      const made = await makeStore()
      stores.push(made)
      return made
    }
    /** A key whose hash tag is `{prefix:tag}`: same tag, same slot, as the core builds them. */
    const key = (id: string, tag = 'k') => `{${prefix}:${tag}}:${id}`
    /** `count` keys, each with its own hash tag, so they spread over the cluster's slots. */
    const spreadKeys = (count: number, id = 'v') => Array.from({ length: count }, (_, index) => key(id, `t${index}`))
    /**
     * Resolves once SHORT_TTL_MS has passed on the store's clock since the call: a marker set now
     * with that TTL has expired. Waiting for the store's own expiry, not sleeping for the TTL, keeps
     * a slow machine (a late reply, a late timer) from making the wait too short.
     */
    const shortTtlPassed = async (): Promise<void> => {
      const marker = key('ttl-passed', 'marker')
      await store.set(marker, 'x', SHORT_TTL_MS)
      await vi.waitFor(async () => expect(await store.get(marker)).toBeNull(), EVENTUALLY)
    }

    beforeAll(async () => {
      store = await newStore()
    })
    afterAll(async () => {
      await Promise.allSettled(stores.map((made) => made.close()))
    })
    beforeEach(() => {
      prefix = `tc-conformance:${randomUUID().slice(0, 8)}`
    })

    describe('get and set', () => {
      it('has a non-empty name for logs and metrics', () => {
        expect(typeof store.name).toBe('string')
        expect(store.name.length).toBeGreaterThan(0)
      })

      it('returns null for a key that was never set', async () => {
        expect(await store.get(key('missing'))).toBeNull()
      })

      it('returns exactly the string that was set', async () => {
        const values = ['plain', '{"v":"żółw 🐢","n":1}', 'line\r\nbreak "quoted" \\ back', 'x'.repeat(256 * 1024)]
        for (const [index, value] of values.entries()) await store.set(key(`value${index}`), value, LONG_TTL_MS)
        for (const [index, value] of values.entries()) expect(await store.get(key(`value${index}`))).toBe(value)
      })

      it('expires a value after ttlMs milliseconds (PX, not seconds)', async () => {
        await store.set(key('short'), 'soon gone', SHORT_TTL_MS)
        await store.set(key('long'), 'stays', LONG_TTL_MS)
        // A TTL read as seconds (50 s) would outlive the wait and fail it.
        await vi.waitFor(async () => expect(await store.get(key('short'))).toBeNull(), EVENTUALLY)
        expect(await store.get(key('long'))).toBe('stays')
      })

      it('keeps a value readable right after it was set with a TTL of a few seconds', async () => {
        await store.set(key('k'), 'v', 5_000)
        expect(await store.get(key('k'))).toBe('v')
      })

      it('overwrites the value and its TTL', async () => {
        await store.set(key('k'), 'first', SHORT_TTL_MS)
        await store.set(key('k'), 'second', LONG_TTL_MS)
        // Past the first TTL: the value must live by the second one.
        await shortTtlPassed()
        expect(await store.get(key('k'))).toBe('second')
      })
    })

    describe('getMany', () => {
      it('returns values in key order with null for missing keys, across many slots', async () => {
        const keys = spreadKeys(128)
        expect(new Set(keys.map((k) => keySlot(k))).size).toBeGreaterThan(64)
        const present = keys.filter((_, index) => index % 3 !== 0)
        await Promise.all(present.map((k) => store.set(k, `value of ${k}`, LONG_TTL_MS)))
        // Shuffled, with a repeated key, so neither slot order nor dedup can pass by accident.
        const asked = [...keys].sort(() => Math.random() - 0.5)
        const [first] = present
        if (first !== undefined) asked.splice(17, 0, first)
        const values = await store.getMany(asked)
        expect(values).toEqual(asked.map((k) => (present.includes(k) ? `value of ${k}` : null)))
      })

      it('returns an empty array for no keys', async () => {
        expect(await store.getMany([])).toEqual([])
      })
    })

    describe('delete', () => {
      it('deletes keys spread over many slots and ignores keys that do not exist', async () => {
        const keys = spreadKeys(100)
        const survivor = key('survivor')
        await Promise.all([...keys, survivor].map((k) => store.set(k, 'v', LONG_TTL_MS)))
        await store.delete([...keys, ...spreadKeys(5, 'never-set')])
        expect(await store.getMany(keys)).toEqual(keys.map(() => null))
        expect(await store.get(survivor)).toBe('v')
      })

      it('accepts an empty list', async () => {
        await expect(store.delete([])).resolves.toBeUndefined()
      })
    })

    describe('acquireLock and releaseLock', () => {
      it('grants the lock to one token only, and answers held to that token again (an attempt delivered twice)', async () => {
        const lock = key('lock')
        expect(await store.acquireLock(lock, 'a', LONG_TTL_MS)).toBe(true)
        expect(await store.acquireLock(lock, 'b', LONG_TTL_MS)).toBe(false)
        // A client may resend an attempt whose connection closed after Redis ran it: the second
        // delivery must not report the caller's own lock as someone else's, or nobody frees it.
        expect(await store.acquireLock(lock, 'a', LONG_TTL_MS)).toBe(true)
        expect(await store.acquireLock(lock, 'b', LONG_TTL_MS)).toBe(false)
        await store.releaseLock(lock, 'a')
        expect(await store.acquireLock(lock, 'b', LONG_TTL_MS)).toBe(true)
      })

      it('frees the lock once its ttl has passed', async () => {
        const lock = key('lock')
        expect(await store.acquireLock(lock, 'a', SHORT_TTL_MS)).toBe(true)
        await vi.waitFor(async () => expect(await store.acquireLock(lock, 'b', LONG_TTL_MS)).toBe(true), EVENTUALLY)
      })

      it('releases only with the token that holds the lock', async () => {
        const lock = key('lock')
        await store.acquireLock(lock, 'holder', LONG_TTL_MS)
        await store.releaseLock(lock, 'intruder')
        expect(await store.acquireLock(lock, 'other', LONG_TTL_MS)).toBe(false)
        await store.releaseLock(lock, 'holder')
        expect(await store.acquireLock(lock, 'other', LONG_TTL_MS)).toBe(true)
      })

      it('resolves when releasing a lock that is not held', async () => {
        await expect(store.releaseLock(key('lock'), 'nobody')).resolves.toBeUndefined()
      })
    })

    describe('setIfLeaseHeld', () => {
      it('writes the value while the lease is held and releases the lock', async () => {
        const [value, lock] = [key('value'), key('lock')]
        await store.acquireLock(lock, 'lease', LONG_TTL_MS)
        expect(await store.setIfLeaseHeld(value, lock, 'lease', 'loaded', LONG_TTL_MS)).toBe(true)
        expect(await store.get(value)).toBe('loaded')
        expect(await store.acquireLock(lock, 'next', LONG_TTL_MS)).toBe(true)
      })

      it('gives the written value its ttl', async () => {
        const [value, lock] = [key('value'), key('lock')]
        await store.acquireLock(lock, 'lease', LONG_TTL_MS)
        expect(await store.setIfLeaseHeld(value, lock, 'lease', 'loaded', SHORT_TTL_MS)).toBe(true)
        await vi.waitFor(async () => expect(await store.get(value)).toBeNull(), EVENTUALLY)
      })

      it('refuses the write after an invalidation deleted the value and the lock', async () => {
        const [value, lock] = [key('value'), key('lock')]
        await store.acquireLock(lock, 'lease', LONG_TTL_MS)
        await store.set(value, 'old', LONG_TTL_MS)
        await store.delete([value, lock])
        expect(await store.setIfLeaseHeld(value, lock, 'lease', 'stale load', LONG_TTL_MS)).toBe(false)
        expect(await store.get(value)).toBeNull()
      })

      it('refuses the write for another token and leaves the holder its lock', async () => {
        const [value, lock] = [key('value'), key('lock')]
        await store.acquireLock(lock, 'holder', LONG_TTL_MS)
        expect(await store.setIfLeaseHeld(value, lock, 'intruder', 'nope', LONG_TTL_MS)).toBe(false)
        expect(await store.get(value)).toBeNull()
        expect(await store.acquireLock(lock, 'third', LONG_TTL_MS)).toBe(false)
        expect(await store.setIfLeaseHeld(value, lock, 'holder', 'yes', LONG_TTL_MS)).toBe(true)
        expect(await store.get(value)).toBe('yes')
      })

      it('refuses the write once the lock has expired', async () => {
        const [value, lock, marker] = [key('value'), key('lock'), key('marker')]
        await store.acquireLock(lock, 'lease', SHORT_TTL_MS)
        // Set after the lock with the same TTL in the same slot: once it is gone, so is the lock.
        await store.set(marker, 'x', SHORT_TTL_MS)
        await vi.waitFor(async () => expect(await store.get(marker)).toBeNull(), EVENTUALLY)
        expect(await store.setIfLeaseHeld(value, lock, 'lease', 'too late', LONG_TTL_MS)).toBe(false)
        expect(await store.get(value)).toBeNull()
      })
    })

    describe('tag stamps', () => {
      it('reads 0 for tags never stamped, in order, across many slots', async () => {
        const tags = spreadKeys(40, 'tag')
        expect(await store.getTagStamps(tags)).toEqual(tags.map(() => 0))
        expect(await store.getTagStamps([])).toEqual([])
      })

      it('returns stamps in the order of the keys asked', async () => {
        const [a, b, c] = spreadKeys(3, 'tag') as [string, string, string]
        const now = Date.now()
        await store.stampTags([a, b], now, LONG_TTL_MS)
        await store.stampTags([c], now + 7, LONG_TTL_MS)
        expect(await store.getTagStamps([key('never', 'x'), c, a, b])).toEqual([0, now + 7, now, now])
      })

      it('never moves a stamp backwards', async () => {
        const [a, b] = spreadKeys(2, 'tag') as [string, string]
        const now = Date.now()
        await store.stampTags([a], now, LONG_TTL_MS)
        await store.stampTags([a, b], now - 1_000, LONG_TTL_MS)
        expect(await store.getTagStamps([a, b])).toEqual([now, now - 1_000])
        await store.stampTags([a, b], now + 1_000, LONG_TTL_MS)
        expect(await store.getTagStamps([a, b])).toEqual([now + 1_000, now + 1_000])
      })

      it('does not let a lower stamp with a shorter ttl shorten the life of a higher one', async () => {
        const tag = key('tag')
        const now = Date.now()
        await store.stampTags([tag], now, LONG_TTL_MS)
        await store.stampTags([tag], now - 1, SHORT_TTL_MS)
        await shortTtlPassed()
        expect(await store.getTagStamps([tag])).toEqual([now])
      })

      it('forgets a stamp after its ttl', async () => {
        const tag = key('tag')
        await store.stampTags([tag], Date.now(), SHORT_TTL_MS)
        await vi.waitFor(async () => expect(await store.getTagStamps([tag])).toEqual([0]), EVENTUALLY)
      })
    })

    describe('hot-key replicas', () => {
      it('spreads replica keys deterministically, at most one per shard and at most count', async () => {
        await store.get(key('warm-up'))
        const make = (n: number) => `{${prefix}!hot:${n}}`
        const first = store.spreadKeys(make, 64)
        expect(store.spreadKeys(make, 64)).toEqual(first)
        expect(first.length).toBeLessThanOrEqual(64)
        const slots = first.map((k) => keySlot(k))
        expect(new Set(slots).size).toBe(first.length)
        // every key is one of the candidates, tried in order
        const candidates = Array.from({ length: 1024 }, (_, n) => make(n))
        const positions = first.map((k) => candidates.indexOf(k))
        expect(positions.every((p) => p >= 0)).toBe(true)
        expect([...positions].sort((a, b) => a - b)).toEqual(positions)
        expect(store.spreadKeys(make, 1).length).toBeLessThanOrEqual(1)
      })

      it.runIf(shards === 'many')('spreads replicas over more than one shard', async () => {
        await store.get(key('warm-up'))
        await vi.waitFor(() => expect(store.spreadKeys((n) => `{${prefix}!hot:${n}}`, 64).length).toBeGreaterThan(1), EVENTUALLY)
      })

      it.runIf(shards === 'one')('keeps at most one replica key on a single shard', async () => {
        await store.get(key('warm-up'))
        expect(store.spreadKeys((n) => `{${prefix}!hot:${n}}`, 64).length).toBeLessThanOrEqual(1)
      })

      it('writes a replica unless a tombstone stands there', async () => {
        const replica = key('replica')
        expect(await store.setReplica(replica, 'v1', LONG_TTL_MS)).toBe(true)
        expect(await store.get(replica)).toBe('v1')
        await store.tombstone([replica], LONG_TTL_MS)
        expect(await store.setReplica(replica, 'late', LONG_TTL_MS)).toBe(false)
        const tombstone = await store.get(replica)
        expect(tombstone).not.toBe('late')
        expect(tombstone).not.toBe('v1')
        expect(tombstone?.startsWith('tc1|')).toBe(false)
      })

      it('lets replicas be written again once the tombstone expired', async () => {
        const replica = key('replica-expiring')
        await store.tombstone([replica], SHORT_TTL_MS)
        await vi.waitFor(async () => expect(await store.setReplica(replica, 'v2', LONG_TTL_MS)).toBe(true), EVENTUALLY)
        expect(await store.get(replica)).toBe('v2')
      })

      it('tombstones keys spread over many slots', async () => {
        const replicas = spreadKeys(20, 'r')
        await Promise.all(replicas.map((k) => store.setReplica(k, 'v', LONG_TTL_MS)))
        await store.tombstone(replicas, LONG_TTL_MS)
        const results = await Promise.all(replicas.map((k) => store.setReplica(k, 'late', LONG_TTL_MS)))
        expect(results.every((written) => !written)).toBe(true)
      })
    })

    describe('publish and subscribe', () => {
      const collector = () => {
        const messages: string[] = []
        const handlers: BusHandlers = { onMessage: (message) => messages.push(message) }
        return { messages, handlers }
      }

      it('delivers messages to a subscriber on another store instance', async () => {
        const other = await newStore()
        const channel = `${prefix}:bus`
        const received = collector()
        const subscription = await other.subscribe(channel, received.handlers)
        const sent = ['one', 'two', 'żółw 🐢']
        for (const message of sent) await store.publish(channel, message)
        await vi.waitFor(() => expect([...received.messages].sort()).toEqual([...sent].sort()), EVENTUALLY)
        await subscription.unsubscribe()
      })

      it("delivers an instance's own messages to its own subscription", async () => {
        const channel = `${prefix}:bus`
        const received = collector()
        const subscription = await store.subscribe(channel, received.handlers)
        await store.publish(channel, 'echo')
        await vi.waitFor(() => expect(received.messages).toEqual(['echo']), EVENTUALLY)
        await subscription.unsubscribe()
      })

      it('keeps channels apart', async () => {
        const other = await newStore()
        const [first, second] = [collector(), collector()]
        const subscriptions = [await other.subscribe(`${prefix}:a`, first.handlers), await other.subscribe(`${prefix}:b`, second.handlers)]
        await store.publish(`${prefix}:a`, 'for a')
        await store.publish(`${prefix}:b`, 'for b')
        await vi.waitFor(() => expect([first.messages, second.messages]).toEqual([['for a'], ['for b']]), EVENTUALLY)
        await Promise.all(subscriptions.map((subscription) => subscription.unsubscribe()))
      })

      it('stops delivery after unsubscribe and keeps other subscriptions', async () => {
        const other = await newStore()
        const [gone, kept] = [collector(), collector()]
        const goneSubscription = await other.subscribe(`${prefix}:gone`, gone.handlers)
        const keptSubscription = await other.subscribe(`${prefix}:kept`, kept.handlers)
        await store.publish(`${prefix}:gone`, 'before')
        await vi.waitFor(() => expect(gone.messages).toEqual(['before']), EVENTUALLY)
        await goneSubscription.unsubscribe()
        await store.publish(`${prefix}:gone`, 'after')
        await store.publish(`${prefix}:kept`, 'barrier')
        await vi.waitFor(() => expect(kept.messages).toEqual(['barrier']), EVENTUALLY)
        // The barrier proves delivery works; a short grace covers a message on another path.
        await new Promise((resolve) => setTimeout(resolve, 100))
        expect(gone.messages).toEqual(['before'])
        await keptSubscription.unsubscribe()
      })
    })

    describe('close', () => {
      it('resolves for a store with an active subscription', async () => {
        const closing = await makeStore()
        const received: string[] = []
        await closing.subscribe(`${prefix}:bus`, { onMessage: (message) => received.push(message) })
        await closing.set(key('k'), 'v', LONG_TTL_MS)
        await expect(closing.close()).resolves.toBeUndefined()
      })
    })
  })
}
