import { DurableDeletes, type MasterDeleteReplies, SUSPECT_MS } from '@tiercache/redis-common'
import { describe, expect, it } from 'vitest'

// The rules both Redis stores follow for a durable delete, without Redis: the master's answers are given.

/** A master that answers every delete with `replies`, and records the wait each one asked for. */
function master(replies: Partial<MasterDeleteReplies>) {
  const waits: (number | undefined)[] = []
  const send = async (_keys: string[], waitMs: number | undefined): Promise<MasterDeleteReplies> => {
    waits.push(waitMs)
    return { deleteError: null, acknowledged: waitMs === undefined ? undefined : 1, ...replies }
  }
  return { waits, send }
}

describe('durable delete rules (DurableDeletes)', () => {
  it('waits for a replica only when asked, turned on, and the shard has replicas', async () => {
    expect(await new DurableDeletes(50).mustConfirm(true, () => 1)).toBe(true)
    expect(await new DurableDeletes(50).mustConfirm(false, () => 1)).toBe(false)
    expect(await new DurableDeletes(50).mustConfirm(true, () => 0)).toBe(false)
    expect(await new DurableDeletes(0).mustConfirm(true, () => 2)).toBe(false)
  })

  it('confirms a delete a replica acknowledged, with the timeout as the wait', async () => {
    const m = master({})
    expect(await new DurableDeletes(50).onMaster('a:1', ['k', 'k:lock'], true, m.send)).toEqual([])
    expect(m.waits).toEqual([50])
  })

  it('reports a timed-out wait unconfirmed, then reports that shard unconfirmed without waiting for 1 s', async () => {
    let now = 0
    const rules = new DurableDeletes(50, () => now)
    const silent = master({ acknowledged: 0 })
    expect(await rules.onMaster('a:1', ['k'], true, silent.send)).toEqual([{ key: 'k', shard: 'a:1' }])
    now = SUSPECT_MS - 1
    expect(await rules.onMaster('a:1', ['j'], true, silent.send)).toEqual([{ key: 'j', shard: 'a:1' }])
    // Another shard still waits.
    expect(await rules.onMaster('b:2', ['i'], true, master({}).send)).toEqual([])
    expect(silent.waits).toEqual([50, undefined])
    now = SUSPECT_MS + 1
    const healed = master({})
    expect(await rules.onMaster('a:1', ['h'], true, healed.send)).toEqual([])
    expect(healed.waits).toEqual([50])
  })

  it('reports a wait that failed unconfirmed', async () => {
    const m = master({ acknowledged: new Error('ERR WAIT cannot be used with replica instances') })
    expect(await new DurableDeletes(50).onMaster('a:1', ['k'], true, m.send)).toEqual([{ key: 'k', shard: 'a:1' }])
  })

  it('deletes a redirected slot key by key, lease first, and reports the keys unconfirmed', async () => {
    const unlinked: string[] = []
    const moved = master({ deleteError: new Error('ASK 12 127.0.0.1:7001') })
    const outcome = await new DurableDeletes(50).clusterSlot('a:1', ['v', 'v:lock'], true, moved.send, async (key) => unlinked.push(key))
    expect(unlinked).toEqual(['v:lock', 'v'])
    expect(outcome).toEqual([
      { key: 'v', shard: 'a:1' },
      { key: 'v:lock', shard: 'a:1' },
    ])
  })

  it('rejects with any other error of the delete', async () => {
    const m = master({ deleteError: new Error('NOPERM this user has no permissions to run the unlink command') })
    await expect(new DurableDeletes(50).onMaster('a:1', ['k'], true, m.send)).rejects.toThrow('NOPERM')
  })

  it('on a primary, reads the replica count only when a wait could follow, and a primary without replicas needs no wait', async () => {
    let reads = 0
    const count = (n: number) => async () => {
      reads++
      return n
    }
    const m = master({})
    expect(await new DurableDeletes(50).onPrimary(['k'], false, count(1), m.send)).toEqual([])
    expect(await new DurableDeletes(0).onPrimary(['k'], true, count(1), m.send)).toEqual([])
    expect(reads).toBe(0)
    expect(await new DurableDeletes(50).onPrimary(['k'], true, count(0), m.send)).toEqual([])
    expect(m.waits).toEqual([undefined, undefined, undefined])
  })
})
