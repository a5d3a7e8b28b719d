import { DurableDeletes, type MasterDeleteReplies, ReplicaCount, replicasToWaitFor, SUSPECT_MS } from '@tiercache/redis-common'
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

  it('waits for the replicas the slot map lists, or, when it lists none, for those connected to the master (a restarted replica is not listed yet)', async () => {
    let asked = 0
    const info = (text: string) => async () => {
      asked++
      return text
    }
    expect(await replicasToWaitFor(1, info('connected_slaves:0'))).toBe(1)
    expect(asked).toBe(0)
    expect(await replicasToWaitFor(0, info('# Replication\r\nrole:master\r\nconnected_slaves:2\r\n'))).toBe(2)
    expect(await replicasToWaitFor(0, info('role:master\r\nconnected_slaves:0\r\n'))).toBe(0)
    expect(await replicasToWaitFor(0, undefined)).toBe(0)
    expect(await replicasToWaitFor(0, () => Promise.reject(new Error('connection closed')))).toBe(0)
    expect(asked).toBe(2)
  })

  it("reads a primary's replica count again before each delete while it was 0 (a replica may have connected since), else at most every 5 s", async () => {
    let connected = 0
    let reads = 0
    let now = 0
    const count = new ReplicaCount(
      async () => {
        reads++
        return `connected_slaves:${connected}`
      },
      () => now,
    )
    expect(await count.fresh()).toBe(0)
    connected = 1
    now += 100
    expect(await count.fresh()).toBe(1)
    now += 100
    expect(await count.fresh()).toBe(1)
    expect(reads).toBe(2)
    now += 5_001
    connected = 0
    expect(await count.fresh()).toBe(0)
    expect(reads).toBe(3)
  })
})
