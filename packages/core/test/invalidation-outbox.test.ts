import { deferred, recordingLogger } from '@tiercache/testkit/helpers'
import { describe, expect, it } from 'vitest'
import { InvalidationOutbox, type OutboxSenders } from '../src/invalidation/invalidation-outbox.js'

/** Senders that fail while `failing` is set and record what reached them. */
function senders() {
  const sent = { ids: [] as [string, string[]][], tags: [] as [string[], number][] }
  const state = { failing: true }
  const send: OutboxSenders = {
    ids: async (entity, ids) => {
      if (state.failing) return ids
      sent.ids.push([entity, [...ids]])
      return []
    },
    tags: async (tags, stamp) => {
      if (state.failing) return false
      sent.tags.push([[...tags], stamp])
      return true
    },
  }
  return { send, sent, state }
}

async function eventually(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const started = performance.now()
  while (!check()) {
    if (performance.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}

describe('the invalidation outbox (ids and tags, one queue)', () => {
  it('retries ids and tags on its timer until they go through, then stops its timer', async () => {
    const { send, sent, state } = senders()
    const outbox = new InvalidationOutbox(send, recordingLogger(), { retryMs: 5, cap: 100 })
    outbox.addIds('product', ['1', '2'])
    outbox.addTags(['red'], 1_000)
    expect(outbox.size).toBe(3)
    state.failing = false
    await eventually(() => outbox.size === 0)
    expect(sent.ids).toEqual([['product', ['1', '2']]])
    expect(sent.tags).toEqual([[['red'], 1_000]])
    await outbox.retry()
    expect(sent.ids).toHaveLength(1)
    outbox.stop()
  })

  it('keeps what fails again, and a tag keeps the newest stamp it was invalidated with', async () => {
    const { send, sent, state } = senders()
    const outbox = new InvalidationOutbox(send, recordingLogger(), { retryMs: 60_000, cap: 100 })
    outbox.addTags(['red'], 2_000)
    outbox.addTags(['red'], 1_000)
    await outbox.retry()
    expect(outbox.size).toBe(1)
    state.failing = false
    await outbox.retry()
    expect(sent.tags).toEqual([[['red'], 2_000]])
    outbox.stop()
  })

  it('drops the oldest entries past its cap, ids and tags alike, and logs it', async () => {
    const { send, sent, state } = senders()
    const logger = recordingLogger()
    const outbox = new InvalidationOutbox(send, logger, { retryMs: 60_000, cap: 3 })
    outbox.addTags(['oldest'], 1)
    outbox.addIds('product', ['1', '2'])
    outbox.addIds('product', ['3'])
    expect(outbox.size).toBe(3)
    expect(logger.records).toContainEqual(
      expect.objectContaining({ level: 'error', msg: 'too many invalidations waiting for L2; the oldest were dropped' }),
    )
    state.failing = false
    await outbox.retry()
    expect(sent.tags).toEqual([])
    expect(sent.ids).toEqual([['product', ['1', '2', '3']]])
    outbox.stop()
  })
})

describe('the invalidation outbox and durable invalidation', () => {
  it('keeps the ids whose deletion no replica confirmed and sends them again until they are confirmed', async () => {
    const sent: string[][] = []
    let unconfirmed = new Set(['2'])
    const outbox = new InvalidationOutbox(
      {
        ids: async (_, ids) => {
          sent.push([...ids])
          return ids.filter((id) => unconfirmed.has(id))
        },
        tags: async () => true,
      },
      recordingLogger(),
      { retryMs: 60_000, cap: 100 },
    )
    outbox.addIds('product', ['1', '2'])
    await outbox.retry()
    expect(outbox.size).toBe(1)
    await outbox.retry()
    unconfirmed = new Set()
    await outbox.retry()
    expect(sent).toEqual([['1', '2'], ['2'], ['2']])
    expect(outbox.size).toBe(0)
    outbox.stop()
  })

  it('retries a step (a lock release) until it reports done, beside the invalidations', async () => {
    let attempts = 0
    const outbox = new InvalidationOutbox({ ids: async () => [], tags: async () => true }, recordingLogger(), { retryMs: 60_000, cap: 100 })
    outbox.addStep('release:lock:token', async () => ++attempts >= 2)
    await outbox.retry()
    expect(outbox.size).toBe(1)
    await outbox.retry()
    expect(outbox.size).toBe(0)
    expect(attempts).toBe(2)
    outbox.stop()
  })

  it('asked to retry while a retry is in flight (a topology change), sends what that one kept again as soon as it is done, once', async () => {
    const calls: string[][] = []
    const firstHeld = deferred<readonly string[]>()
    const send: OutboxSenders = {
      ids: (_entity, ids) => {
        calls.push([...ids])
        // The first send went to the old master and failed; the next reaches the new one.
        return calls.length === 1 ? firstHeld.promise : Promise.resolve([])
      },
      tags: async () => true,
    }
    // A timer of an hour: only the retries asked for can send.
    const outbox = new InvalidationOutbox(send, recordingLogger(), { retryMs: 3_600_000, cap: 100 })
    outbox.addIds('product', ['1'])
    const first = outbox.retry()
    const afterTopologyChange = outbox.retry()
    const another = outbox.retry()
    expect(another).toBe(afterTopologyChange)
    expect(calls).toEqual([['1']])
    firstHeld.resolve(['1'])
    await first
    await afterTopologyChange
    expect(calls).toEqual([['1'], ['1']])
    expect(outbox.size).toBe(0)
    outbox.stop()
  })
})
