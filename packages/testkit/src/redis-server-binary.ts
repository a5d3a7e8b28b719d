import { execFileSync } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

/** The oldest Redis the testkit supports: it forms clusters with `CLUSTER ADDSLOTSRANGE` (7.0+). */
const MINIMUM_MAJOR_VERSION = 7

const INSTALL_HINT =
  'Install it: Debian/Ubuntu `sudo apt-get install -y redis-server`, macOS `brew install redis`; ' +
  'or set REDIS_SERVER_BIN to the path of a redis-server binary.'

// IDEs and CI runners sometimes start the test runner with a short PATH; these are where
// the usual packages put the binary, so a present Redis is still found.
const FALLBACK_DIRS = ['/usr/bin', '/usr/local/bin', '/opt/homebrew/bin', '/usr/sbin']

// Keyed by the environment it was resolved from, so a changed PATH or REDIS_SERVER_BIN is honoured.
let cached: { readonly environment: string; readonly bin: string } | undefined

/**
 * Returns the path of the `redis-server` binary the testkit starts: `$REDIS_SERVER_BIN` when set,
 * else the first `redis-server` on `PATH` (then a few usual install folders). Throws an Error that
 * says how to install Redis when none is found or when it is older than 7.0: the tests must fail
 * at once with a fix, never skip silently. The result is cached until PATH or REDIS_SERVER_BIN change.
 */
export function requireRedisServer(): string {
  const fromEnv = process.env.REDIS_SERVER_BIN
  const environment = `${fromEnv ?? ''}\0${process.env.PATH ?? ''}`
  if (cached?.environment === environment) return cached.bin
  let bin: string | undefined
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!isExecutable(fromEnv)) {
      throw new Error(`REDIS_SERVER_BIN is set to ${fromEnv}, which is not an executable file. ${INSTALL_HINT}`)
    }
    bin = fromEnv
  } else {
    const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...FALLBACK_DIRS]
    bin = dirs.map((dir) => join(dir, 'redis-server')).find(isExecutable)
  }
  if (bin === undefined) {
    throw new Error(
      `redis-server was not found on PATH: the tiercache tests run against a real Redis 7+ started by the testkit. ${INSTALL_HINT}`,
    )
  }
  const version = redisServerVersion(bin)
  const major = Number(version.split('.')[0])
  if (!(major >= MINIMUM_MAJOR_VERSION)) {
    throw new Error(`${bin} is Redis ${version}; the testkit needs Redis ${MINIMUM_MAJOR_VERSION}.0 or newer. ${INSTALL_HINT}`)
  }
  cached = { environment, bin }
  return bin
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

function redisServerVersion(bin: string): string {
  // `redis-server --version` prints e.g. "Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 ..."
  const output = execFileSync(bin, ['--version'], { encoding: 'utf8', timeout: 10_000 })
  const match = /v=(\d+\.\d+\.\d+)/.exec(output)
  if (match?.[1] === undefined) throw new Error(`Could not read the version of ${bin} from: ${output.trim()}`)
  return match[1]
}
