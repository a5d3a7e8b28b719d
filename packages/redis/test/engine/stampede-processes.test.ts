import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { testCluster } from '@tiercache/testkit'
import { describe, expect, it } from 'vitest'
import { uniqueNamespace } from './helpers.js'

const WORKER = fileURLToPath(new URL('../fixtures/stampede-worker.mjs', import.meta.url))

interface Done {
  type: 'done'
  loaderCalls: number
  values: unknown[]
  ms: number
}

function startWorkers(count: number, args: string[]): { children: ChildProcess[]; ready: Promise<void>; done: Promise<(Done | null)[]> } {
  const children = Array.from({ length: count }, () => fork(WORKER, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }))
  const ready = Promise.all(
    children.map((child) => new Promise<void>((resolve) => child.on('message', (m: { type: string }) => m.type === 'ready' && resolve()))),
  ).then(() => undefined)
  const done = Promise.all(
    children.map(
      (child) =>
        new Promise<Done | null>((resolve) => {
          child.on('message', (m: Done) => m.type === 'done' && resolve(m))
          child.on('exit', () => resolve(null))
        }),
    ),
  )
  return { children, ready, done }
}

describe('stampede across processes', () => {
  it('4 processes x 250 concurrent gets of one cold key, loader 100 ms: exactly 1 loader call in total', async () => {
    const { children, ready, done } = startWorkers(4, [JSON.stringify(testCluster().seeds()), uniqueNamespace(), '250', '100', '5000'])
    await ready
    for (const child of children) child.send({ type: 'go' })
    const results = (await done) as Done[]
    expect(results.every((r) => r !== null)).toBe(true)
    expect(results.reduce((sum, r) => sum + r.loaderCalls, 0)).toBe(1)
    const values = results.flatMap((r) => r.values)
    expect(values).toHaveLength(1000)
    expect(new Set(values.map((v) => JSON.stringify(v))).size).toBe(1)
    expect(JSON.stringify(values[0])).toContain('"id":"cold"')
  }, 60_000)

  it('when the lock holder is killed mid-load, the others get the value after at most the lock TTL plus one load', async () => {
    const lockTtlMs = 1_000
    const loadMs = 100
    const { children, ready, done } = startWorkers(4, [
      JSON.stringify(testCluster().seeds()),
      uniqueNamespace(),
      '250',
      String(loadMs),
      String(lockTtlMs),
    ])
    await ready
    let killed: number | undefined
    const loadingPids: number[] = []
    for (const child of children) {
      child.on('message', (m: { type: string; pid: number }) => {
        if (m.type !== 'loading') return
        loadingPids.push(m.pid)
        if (killed === undefined) {
          killed = m.pid
          child.kill('SIGKILL')
        }
      })
    }
    const started = performance.now()
    for (const child of children) child.send({ type: 'go' })
    const results = await done
    const elapsed = performance.now() - started
    const survivors = results.filter((r): r is Done => r !== null)
    expect(survivors).toHaveLength(3)
    const values = survivors.flatMap((r) => r.values)
    expect(values).toHaveLength(750)
    expect(values.every((v) => JSON.stringify(v).includes('"id":"cold"'))).toBe(true)
    // one load in the killed process, one more after its lock expired
    expect(loadingPids).toHaveLength(2)
    // lock TTL + one load, plus the waiters' poll interval (<= 50 ms) and process scheduling
    // slack on a busy machine; waiters would give up only after lockWait (10 s).
    expect(elapsed).toBeLessThan(lockTtlMs + loadMs + 1_000)
    expect(Math.max(...survivors.map((r) => r.ms))).toBeGreaterThanOrEqual(lockTtlMs - 100)
  }, 60_000)
})
