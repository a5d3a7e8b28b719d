import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { testCluster } from '@tiercache/testkit'
import { Cluster } from 'ioredis'
import { afterAll, beforeAll } from 'vitest'

// The built command, as `pnpm exec tiercache` runs it (`pnpm test` builds first).
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url))

/** How a `tiercache` child process ended. */
export interface Run {
  code: number | null
  stdout: string
  stderr: string
}

// The CLI's default `--timeout` (2 s to connect, and per command) is an operator's default. A child
// process on a loaded 2-core test machine can need longer just to start and connect, and then
// exits 3 as if Redis were unreachable (seen: `tiercache get` on the test cluster, load average 16).
// A command that reaches Redis gets the generous deadline the rest of the suite uses, unless the
// test gives its own `--timeout`.
const REDIS_TARGET_FLAGS = ['--nodes', '--url', '--sentinels']
const TEST_TIMEOUT_MS = '15000'

function withTestTimeout(args: readonly string[]): readonly string[] {
  if (args.includes('--timeout') || !args.some((arg) => REDIS_TARGET_FLAGS.includes(arg))) return args
  return [...args, '--timeout', TEST_TIMEOUT_MS]
}

/**
 * Runs the built `tiercache` bin as a child process with `args` (plus a generous `--timeout` when
 * it reaches Redis and `args` has none); rejects if it runs past 30 s.
 */
export function tiercache(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...withTestTimeout(args)], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => {
      stdout += chunk
    })
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`tiercache ${args.join(' ')} did not exit within 30 s; stderr: ${stderr}`))
    }, 30_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** The test cluster's seed nodes as `--nodes` takes them. */
export function seeds(): string {
  return testCluster()
    .seeds()
    .map((seed) => `${seed.host}:${seed.port}`)
    .join(',')
}

/**
 * For a CLI test file: a plain cluster client (`redis`, to read and plant keys behind the
 * commands' back), opened before the file's tests, and `cleanups` that all run after them (the
 * client's quit among them; a failing cleanup does not stop the others).
 */
export function cliTestFile(): { readonly redis: Cluster; readonly cleanups: (() => Promise<unknown>)[] } {
  let redis: Cluster | undefined
  const cleanups: (() => Promise<unknown>)[] = []
  beforeAll(() => {
    const client = new Cluster(testCluster().seeds())
    redis = client
    cleanups.push(() => client.quit())
  })
  afterAll(async () => {
    await Promise.allSettled(cleanups.map((cleanup) => cleanup()))
  })
  return {
    get redis() {
      if (redis === undefined) throw new Error('cliTestFile: use the client inside a test or hook')
      return redis
    },
    cleanups,
  }
}
