import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isRecordedRedis, killRecordedProcessesSync, REGISTRY_FILE, readRecordedProcesses, recordProcess } from './registered-processes.js'
import { waitUntil } from './wait-until.js'

/** Registries this process created: the ones its exit hooks clean up. */
const ownedRegistries = new Set<ProcessRegistry>()
let exitHooksInstalled = false

/**
 * The run directory of one started cluster or standalone Redis, and the record of every process
 * started for it.
 *
 * A run directory is `os.tmpdir()/tiercache-testkit-<runId>/`, with one folder per node
 * (`<port>/`: config, logs, nodes.conf) and a registry file of the pids started in it. The process
 * that creates the run owns it: its exit, SIGINT, SIGTERM and SIGHUP kill the recorded processes,
 * and a detached reaper does the same if it dies by SIGKILL. Other processes (vitest workers)
 * attach to the run to restart nodes; what they start is recorded in the same file, so the owner
 * still cleans it up.
 */
export class ProcessRegistry {
  private constructor(
    /** Absolute path of the run directory. */
    readonly runDir: string,
    /** `true` in the process that created the run and cleans it up on exit. */
    readonly owner: boolean,
  ) {}

  /** Creates a fresh run directory owned by this process, with exit hooks and a reaper. */
  static create(): ProcessRegistry {
    const runId = `${process.pid}-${randomBytes(4).toString('hex')}`
    const runDir = join(tmpdir(), `tiercache-testkit-${runId}`)
    mkdirSync(runDir, { recursive: true })
    writeFileSync(join(runDir, REGISTRY_FILE), '')
    const registry = new ProcessRegistry(runDir, true)
    installExitHooks()
    ownedRegistries.add(registry)
    spawnReaper(runDir)
    return registry
  }

  /** Joins a run created by another process (or earlier in this one) without owning it. */
  static attach(runDir: string): ProcessRegistry {
    if (!existsSync(join(runDir, REGISTRY_FILE))) {
      throw new Error(`${runDir} is not a live testkit run directory (was the cluster stopped, or started on another machine?)`)
    }
    for (const registry of ownedRegistries) if (registry.runDir === runDir) return registry
    return new ProcessRegistry(runDir, false)
  }

  /** The folder of the node listening on `port`. */
  nodeDir(port: number): string {
    return join(this.runDir, String(port))
  }

  /** Records a started redis-server so that every cleanup path can kill it. */
  register(pid: number, port: number): void {
    recordProcess(this.runDir, { pid, port })
  }

  /** The recorded processes that are still running. */
  livePids(): number[] {
    return readRecordedProcesses(this.runDir)
      .filter(isRecordedRedis)
      .map((recorded) => recorded.pid)
  }

  /**
   * Kills every recorded process (SIGKILL), waits until they are gone and removes the run
   * directory, which also makes the reaper exit. Safe to call more than once, from any process.
   */
  async stop(): Promise<void> {
    killRecordedProcessesSync(this.runDir)
    await waitUntil(
      `the redis-server processes of ${this.runDir} to exit`,
      async () => {
        const running = this.livePids()
        return running.length === 0 ? { done: true, value: undefined } : { done: false, reason: `still running: ${running.join(', ')}` }
      },
      { timeoutMs: 10_000, intervalMs: 20 },
    )
    rmSync(this.runDir, { recursive: true, force: true })
    ownedRegistries.delete(this)
  }
}

function killOwnedSync(): void {
  for (const registry of ownedRegistries) {
    killRecordedProcessesSync(registry.runDir)
    rmSync(registry.runDir, { recursive: true, force: true })
  }
  ownedRegistries.clear()
}

function installExitHooks(): void {
  if (exitHooksInstalled) return
  exitHooksInstalled = true
  process.on('exit', killOwnedSync)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killOwnedSync()
      // Listening to a signal turns off its default action (exit). When nobody else handles it
      // (vitest handles SIGINT, a plain script does not), restore that action and re-raise, so
      // Ctrl-C still ends the process.
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal)
        process.kill(process.pid, signal)
      }
    }
    process.on(signal, onSignal)
  }
}

function spawnReaper(runDir: string): void {
  const child = spawn(process.execPath, [reaperScript(), String(process.pid), runDir], { detached: true, stdio: 'ignore' })
  child.unref()
}

/**
 * The compiled reaper script. Next to this module in `dist/`; when the testkit runs from its
 * TypeScript sources (its own tests), the built copy in `dist/` is used, since Node 20 cannot
 * run `.ts` files.
 */
function reaperScript(): string {
  const candidates = [new URL('./reaper.js', import.meta.url), new URL('../dist/reaper.js', import.meta.url)].map((url) =>
    fileURLToPath(url),
  )
  const found = candidates.find((path) => existsSync(path))
  if (found === undefined) {
    throw new Error(
      `The testkit's reaper script is missing (looked at ${candidates.join(', ')}). Build it: pnpm --filter @tiercache/testkit build`,
    )
  }
  return found
}
