/**
 * The orphan reaper: a tiny detached process started next to every run directory the testkit
 * owns. `node reaper.js <parentPid> <runDir>`.
 *
 * Exit hooks in the starting process cover a normal exit, an exception and SIGINT/SIGTERM, but
 * nothing runs in a process killed with SIGKILL (an OOM kill, a CI timeout, `kill -9` of the
 * test runner). The reaper covers that: every 300 ms it checks that its parent still lives,
 * and once the parent is gone it kills the run's redis-server processes and removes the run
 * directory. When the run directory disappears first, the run was stopped normally and the
 * reaper just exits.
 */
import { existsSync, rmSync } from 'node:fs'
import { isProcessAlive, killRecordedProcessesSync } from './registered-processes.js'

const POLL_INTERVAL_MS = 300

const [parentArgument, runDir] = process.argv.slice(2)
const parentPid = Number(parentArgument)

if (!Number.isInteger(parentPid) || parentPid <= 0 || runDir === undefined) {
  process.stderr.write('usage: node reaper.js <parentPid> <runDir>\n')
  process.exit(2)
}

setInterval(() => {
  if (!existsSync(runDir)) process.exit(0)
  // ppid changes when the parent dies and this process is adopted; it also guards against the
  // parent's pid being reused by an unrelated process between two polls.
  if (process.ppid === parentPid && isProcessAlive(parentPid)) return
  killRecordedProcessesSync(runDir)
  rmSync(runDir, { recursive: true, force: true })
  process.exit(0)
}, POLL_INTERVAL_MS)
