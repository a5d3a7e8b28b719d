import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { testCluster, testStandalone } from '@tiercache/testkit'
import { describe, expect, it } from 'vitest'

const FIXTURE = fileURLToPath(new URL('./fixtures/store-exit.mjs', import.meta.url))

/** Runs the fixture (against the built package) and resolves with its exit code and output. */
function runFixture(args: string[], timeoutMs: number): Promise<{ code: number | null; output: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [FIXTURE, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk))
    child.stderr.on('data', (chunk) => (output += chunk))
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, timeoutMs)
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, output, timedOut })
    })
  })
}

describe('close()', () => {
  it('lets a process using a cluster store (bus included) exit by itself', async () => {
    const result = await runFixture(['cluster', JSON.stringify(testCluster().seeds())], 15_000)
    expect(result).toEqual({ code: 0, output: 'closed\n', timedOut: false })
  })

  it('lets a process using a standalone store (bus included) exit by itself', async () => {
    const result = await runFixture(['standalone', String(testStandalone().port)], 15_000)
    expect(result).toEqual({ code: 0, output: 'closed\n', timedOut: false })
  })
})
