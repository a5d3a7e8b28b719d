import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { EVENTUALLY, findFreeRedisPort, isPortFree, RedisCluster, requireRedisServer } from '../src/index.js'

// Child processes import the built testkit: like the reaper, they run plain Node.
const dist = fileURLToPath(new URL('../dist/', import.meta.url))

interface Started {
  readonly pid: number
  readonly runDir: string
}

const children: ChildProcess[] = []
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
})

/** Runs an ES module snippet in a child Node process and resolves with the first JSON line it prints. */
async function runChild(code: string): Promise<{ child: ChildProcess; output: Started }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
  children.push(child)
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
  for await (const line of lines) return { child, output: JSON.parse(line) as Started }
  throw new Error('the child printed nothing')
}

const startStandaloneInChild = (then: string) => `
  import { RedisStandalone } from '${dist}redis-standalone.js'
  const redis = await RedisStandalone.start()
  console.log(JSON.stringify({ pid: redis.pid, runDir: redis.toJSON().runDir }))
  ${then}
`

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  // A zombie waiting for its (dead) parent's adopter to reap it counts as gone.
  return !/^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
}

/** Live processes whose command line mentions `text` (the reaper carries the run directory). */
function processesMentioning(text: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        return readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text) && isAlive(Number(entry))
      } catch {
        return false
      }
    })
    .map(Number)
}

describe.runIf(process.platform === 'linux')('process lifecycle', () => {
  it('stop kills every process of the run, also nodes another process restarted, and the reaper', async () => {
    const cluster = await RedisCluster.start({ masters: 3, replicasPerMaster: 0 })
    const runDir = cluster.toJSON().runDir
    const [first] = cluster.seeds()
    if (first === undefined) throw new Error('no node')
    const before = cluster.nodes.map((node) => node.pid)
    expect(processesMentioning(runDir)).toHaveLength(1) // the reaper

    // A test worker restarting a node: the new process is recorded in the run, not in the worker.
    const { child } = await runChild(`
      import { RedisCluster } from '${dist}redis-cluster.js'
      const cluster = RedisCluster.attach(${JSON.stringify(cluster.stateFile)})
      await cluster.restart(${first.port})
      console.log(JSON.stringify({ pid: cluster.nodes[0].pid, runDir: '' }))
    `)
    await new Promise((resolve) => child.once('exit', resolve))
    const pids = cluster.nodes.map((node) => node.pid)
    expect(pids[0]).not.toBe(before[0])
    expect(pids.every((pid) => pid !== undefined && isAlive(pid))).toBe(true)

    await cluster.stop()
    expect(pids.filter((pid) => pid !== undefined && isAlive(pid))).toEqual([])
    expect(existsSync(runDir)).toBe(false)
    await vi.waitFor(() => expect(processesMentioning(runDir)).toEqual([]), EVENTUALLY)
    expect(await isPortFree(first.port)).toBe(true)
  })

  it('kills its nodes when the process that started them exits without stopping them', async () => {
    const { child, output } = await runChild(startStandaloneInChild('process.exit(0)'))
    await new Promise((resolve) => child.once('exit', resolve))
    expect(isAlive(output.pid)).toBe(false)
    expect(existsSync(output.runDir)).toBe(false)
  })

  it('kills its nodes when the process that started them gets SIGTERM', async () => {
    const { child, output } = await runChild(startStandaloneInChild('setInterval(() => {}, 1000)'))
    expect(isAlive(output.pid)).toBe(true)
    const exited = new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)))
    child.kill('SIGTERM')
    // The hook re-raises the signal, so the process still dies of it.
    expect(await exited).toBe('SIGTERM')
    expect(isAlive(output.pid)).toBe(false)
    expect(existsSync(output.runDir)).toBe(false)
  })

  it('the reaper kills the nodes of a process that was killed with SIGKILL', async () => {
    const { child, output } = await runChild(startStandaloneInChild('setInterval(() => {}, 1000)'))
    child.kill('SIGKILL')
    await vi.waitFor(() => {
      expect(isAlive(output.pid)).toBe(false)
      expect(existsSync(output.runDir)).toBe(false)
      expect(processesMentioning(output.runDir)).toEqual([])
    }, EVENTUALLY)
  })
})

describe('requireRedisServer', () => {
  it('finds the binary', () => {
    expect(requireRedisServer()).toMatch(/redis-server$/)
  })

  it('fails with the install commands when the configured binary is missing', () => {
    const previous = process.env.REDIS_SERVER_BIN
    process.env.REDIS_SERVER_BIN = '/nonexistent/redis-server'
    try {
      expect(() => requireRedisServer()).toThrow(/apt-get install -y redis-server.*brew install redis/)
    } finally {
      if (previous === undefined) delete process.env.REDIS_SERVER_BIN
      else process.env.REDIS_SERVER_BIN = previous
    }
  })
})

describe('findFreeRedisPort', () => {
  it('returns a port whose cluster bus port is free too, outside the excluded ones', async () => {
    const exclude = new Set<number>()
    for (let index = 0; index < 10; index++) {
      const port = await findFreeRedisPort({ clusterBus: true, exclude })
      expect(exclude.has(port) || exclude.has(port + 10_000)).toBe(false)
      expect(await isPortFree(port)).toBe(true)
      expect(await isPortFree(port + 10_000)).toBe(true)
      exclude.add(port).add(port + 10_000)
    }
  })
})
