import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { testCluster } from '@tiercache/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { uniqueNamespace } from './helpers.js'

const WORKER = fileURLToPath(new URL('../fixtures/stampede-worker.mjs', import.meta.url))

interface Done {
  type: 'done'
  loaderCalls: number
  values: unknown[]
  ms: number
}

const started: ChildProcess[] = []

// A test that fails (or times out) leaves its workers waiting: end them, so none outlives the run.
afterEach(() => {
  for (const child of started.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
})

function startWorkers(count: number, args: string[]): { children: ChildProcess[]; ready: Promise<void>; done: Promise<(Done | null)[]> } {
  const children = Array.from({ length: count }, () => fork(WORKER, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }))
  started.push(...children)
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

/**
 * Starts 4 workers with `args` (250 callers each), lets them go at once, and asserts that all
 * 1,000 callers were served one value by exactly 1 loader call in total. Returns the values.
 */
async function oneLoadServesAll(args: string[]): Promise<unknown[]> {
  const { children, ready, done } = startWorkers(4, args)
  await ready
  for (const child of children) child.send({ type: 'go' })
  const results = (await done) as Done[]
  expect(results.every((r) => r !== null)).toBe(true)
  expect(results.reduce((sum, r) => sum + r.loaderCalls, 0)).toBe(1)
  const values = results.flatMap((r) => r.values)
  expect(values).toHaveLength(1000)
  expect(new Set(values.map((v) => JSON.stringify(v))).size).toBe(1)
  return values
}

describe('stampede across processes', () => {
  it('4 processes x 250 concurrent gets of one cold key, loader 100 ms: exactly 1 loader call in total', async () => {
    const values = await oneLoadServesAll([JSON.stringify(testCluster().seeds()), uniqueNamespace(), '250', '100', '5000'])
    expect(JSON.stringify(values[0])).toContain('"id":"cold"')
  }, 60_000)

  it('the waiting processes are woken when the value lands: with lockPoll of an hour all 1000 callers are still served, by 1 loader call', async () => {
    // lockPoll '1h': a waiting process that listens for the wake-up polls again only after the
    // test's timeout; lockTtl and lockWait '1h' keep it from taking over the lock or giving up. So
    // every process served was woken by the holder (or found the value before its wake-up
    // subscription was active). The holder closes its cache as soon as its callers are served:
    // its wake-up must still go out.
    const seeds = JSON.stringify(testCluster().seeds())
    await oneLoadServesAll([seeds, uniqueNamespace(), '250', '100', '3600000', '1h', '1h'])
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
    const loadingAt: number[] = []
    for (const child of children) {
      child.on('message', (m: { type: string; pid: number }) => {
        if (m.type !== 'loading') return
        loadingPids.push(m.pid)
        loadingAt.push(performance.now())
        if (killed === undefined) {
          killed = m.pid
          child.kill('SIGKILL')
        }
      })
    }
    for (const child of children) child.send({ type: 'go' })
    const results = await done
    const survivors = results.filter((r): r is Done => r !== null)
    expect(survivors).toHaveLength(3)
    const values = survivors.flatMap((r) => r.values)
    expect(values).toHaveLength(750)
    expect(values.every((v) => JSON.stringify(v).includes('"id":"cold"'))).toBe(true)
    // one load in the killed process, one more after its lock expired
    expect(loadingPids).toHaveLength(2)
    // The second load waited for the dead holder's lock to expire: a lock taken over early would
    // start it within a poll interval (<= 20 ms) of the first. Half the TTL leaves room for the
    // first message reaching this process late on a loaded machine.
    expect((loadingAt[1] as number) - (loadingAt[0] as number)).toBeGreaterThanOrEqual(lockTtlMs / 2)
    // The documented bound (docs/guarantees.md): each survivor has the value within the lock TTL +
    // one load (+ one poll interval), timed in the survivor from its own start. Asserted with 3 s
    // more for a shared 2-core CI machine running four Node processes and the cluster; a waiter that
    // got the value because it gave up waiting, not because the lock expired, takes lockWait (10 s).
    expect(Math.max(...survivors.map((r) => r.ms))).toBeLessThan(lockTtlMs + loadMs + 3_000)
  }, 60_000)
})
