import { execFileSync } from 'node:child_process'
import { appendFileSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * The registry file of a run directory: one `<pid> <port>` line per redis-server ever started in
 * the run, by any process (the global setup, or a test worker restarting a node). Appending a
 * short line is atomic enough for the few writers a test run has, and a file outlives the
 * process that wrote it, which is the point: the reaper reads it after its parent is gone.
 */
export const REGISTRY_FILE = 'pids'

/** A process recorded in a run's registry file. */
export interface RegisteredProcess {
  readonly pid: number
  /** The port the process listens on; it is how the process is told apart from a reused pid. */
  readonly port: number
}

/** Appends a process to the run's registry file. */
export function recordProcess(runDir: string, process: RegisteredProcess): void {
  appendFileSync(join(runDir, REGISTRY_FILE), `${process.pid} ${process.port}\n`)
}

/** Reads every process recorded in the run; empty when the run directory is gone. */
export function readRecordedProcesses(runDir: string): RegisteredProcess[] {
  let text: string
  try {
    text = readFileSync(join(runDir, REGISTRY_FILE), 'utf8')
  } catch {
    return []
  }
  return text
    .split('\n')
    .map((line) => line.trim().split(' ').map(Number))
    .filter((fields): fields is [number, number] => fields.length === 2 && fields.every((n) => Number.isInteger(n) && n > 0))
    .map(([pid, port]) => ({ pid, port }))
}

/**
 * `true` while `pid` is a running process. A killed child stays a zombie until its parent reaps
 * it; a zombie holds no ports and never runs again, so it counts as gone.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const state = stat.charAt(stat.lastIndexOf(')') + 2)
    return state !== 'Z' && state !== 'X'
  } catch {
    // No /proc (macOS): kill(0) is the best we have.
    return true
  }
}

/**
 * `true` when `pid` is alive and still the redis-server that was recorded for `port`. Pids are
 * reused once a process is gone, so nothing is ever signalled on the pid alone: Redis writes its
 * listening address into its process title (`redis-server 127.0.0.1:PORT [cluster]`), and its
 * original arguments hold `--port PORT`, so the port shows up in the command line either way.
 */
export function isRecordedRedis(recorded: RegisteredProcess): boolean {
  if (!isProcessAlive(recorded.pid)) return false
  const commandLine = readCommandLine(recorded.pid)
  return commandLine !== undefined && new RegExp(`(^|\\D)${recorded.port}(\\D|$)`).test(commandLine)
}

function readCommandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')
  } catch {
    if (process.platform === 'linux') return undefined
  }
  try {
    return execFileSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8', timeout: 5_000 })
  } catch {
    return undefined
  }
}

/**
 * Sends SIGKILL to every recorded process of the run that is still its redis-server, at once and
 * synchronously (it runs in `exit` handlers and in the reaper). SIGKILL also ends a paused
 * (SIGSTOP) node, and no node keeps data worth a graceful shutdown. Returns the pids signalled.
 */
export function killRecordedProcessesSync(runDir: string): number[] {
  const killed: number[] = []
  for (const recorded of readRecordedProcesses(runDir)) {
    if (!isRecordedRedis(recorded)) continue
    try {
      process.kill(recorded.pid, 'SIGKILL')
      killed.push(recorded.pid)
    } catch {
      // It exited between the check and the signal: nothing left to do.
    }
  }
  return killed
}
