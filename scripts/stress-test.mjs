#!/usr/bin/env node
// Runs the whole vitest suite several times in a row beside a competing CPU load, to find tests that
// depend on timing. Usage: `pnpm test:stress [--runs N] [--load N]` (defaults: 5 runs, 1 busy process).
//
// The busy processes are plain node children spinning in a loop, each pinned with `taskset` to one CPU
// (CPU i mod the CPU count) where taskset exists, so they take a whole core from the tests instead of
// being spread thin by the scheduler. They are killed by pid when the runs end, and on Ctrl-C or
// SIGTERM. The packages are built once; each run is a fresh `vitest run` (a fresh Redis Cluster), and
// its JSON report gives the names of the tests that failed. Exits 1 if any run failed.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const root = fileURLToPath(new URL('..', import.meta.url))
const { values } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, load: { type: 'string', default: '1' } },
})
const runs = positiveInteger('--runs', values.runs)
const load = positiveInteger('--load', values.load)

function positiveInteger(flag, text) {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 1) {
    console.error(`${flag}: expected a positive integer, got ${JSON.stringify(text)}`)
    process.exit(2)
  }
  return n
}

const hasTaskset = spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0
const busy = []

function startLoad() {
  const cpus = availableParallelism()
  for (let i = 0; i < load; i++) {
    const spin = [process.execPath, '-e', 'for (;;) {}']
    const [command, ...args] = hasTaskset ? ['taskset', '-c', String(i % cpus), ...spin] : spin
    // taskset execs node in place, so the pid we hold is the spinning process itself.
    const child = spawn(command, args, { stdio: 'ignore' })
    busy.push(child)
    console.log(`load: busy process pid ${child.pid}${hasTaskset ? ` pinned to CPU ${i % cpus}` : ' (taskset not found: unpinned)'}`)
  }
}

function stopLoad() {
  for (const child of busy.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
}

let vitest
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stopLoad()
    vitest?.kill(signal)
    process.exit(130)
  })
}
process.on('exit', stopLoad)

function run(command, args, extra = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: 'inherit', ...extra })
    vitest = child
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)))
  })
}

/** The full names of the failed tests (and failed files) in a vitest JSON report. */
function failuresIn(reportPath) {
  let report
  try {
    report = JSON.parse(readFileSync(reportPath, 'utf8'))
  } catch {
    return ['(no JSON report: vitest stopped before writing it)']
  }
  const failed = []
  for (const file of report.testResults ?? []) {
    const where = file.name.startsWith(root) ? file.name.slice(root.length) : file.name
    const tests = (file.assertionResults ?? []).filter((t) => t.status === 'failed')
    for (const t of tests) failed.push(`${where} › ${[...(t.ancestorTitles ?? []), t.title].join(' › ')}`)
    // A file can fail outside its tests too (a hook that timed out, an import error): its tests are then skipped.
    if (file.status === 'failed' && (tests.length === 0 || file.message)) {
      failed.push(`${where} (file failed: ${String(file.message || 'no message').split('\n')[0]})`)
    }
  }
  return failed
}

const scratch = mkdtempSync(join(tmpdir(), 'tiercache-stress-'))
const vitestBin = join(root, 'node_modules', '.bin', 'vitest')
const results = []
try {
  console.log('build: pnpm run build')
  if ((await run('pnpm', ['run', 'build'], { env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' } })) !== 0) {
    console.error('build failed; no test run started')
    process.exit(1)
  }
  startLoad()
  for (let i = 1; i <= runs; i++) {
    const reportPath = join(scratch, `run-${i}.json`)
    const started = Date.now()
    console.log(`\n=== run ${i}/${runs}: vitest run ===`)
    const code = await run(vitestBin, ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${reportPath}`])
    const failed = code === 0 ? [] : failuresIn(reportPath)
    if (code !== 0 && failed.length === 0) failed.push(`(vitest exited ${code} with no failed test in its report)`)
    results.push({ run: i, failed, seconds: Math.round((Date.now() - started) / 1000) })
    console.log(`=== run ${i}/${runs}: ${failed.length === 0 ? 'passed' : `FAILED (${failed.length})`} in ${results.at(-1).seconds} s ===`)
    for (const name of failed) console.log(`  ✗ ${name}`)
  }
} finally {
  stopLoad()
  rmSync(scratch, { recursive: true, force: true })
}

const failedRuns = results.filter((r) => r.failed.length > 0)
console.log(
  `\nstress summary: ${runs} run(s) beside ${load} busy process(es); ${runs - failedRuns.length} passed, ${failedRuns.length} failed`,
)
for (const r of results) {
  console.log(`  run ${r.run}: ${r.failed.length === 0 ? 'passed' : 'FAILED'} (${r.seconds} s)`)
  for (const name of r.failed) console.log(`    ✗ ${name}`)
}
process.exit(failedRuns.length === 0 ? 0 : 1)
