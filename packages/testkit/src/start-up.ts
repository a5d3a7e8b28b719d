import { readFileSync } from 'node:fs'
import { ProcessRegistry } from './process-registry.js'
import { requireRedisServer } from './redis-server-binary.js'

/**
 * The start-up every Redis deployment of the testkit shares (cluster, standalone, Sentinel group):
 * fails at once, with install instructions, when redis-server is missing; gives `build` a fresh
 * process registry; and if `build` fails, kills every process it started before rethrowing, so a
 * failed start leaves nothing running.
 */
export async function startWithRegistry<T>(build: (registry: ProcessRegistry) => Promise<T>): Promise<T> {
  requireRedisServer()
  const registry = ProcessRegistry.create()
  try {
    return await build(registry)
  } catch (error) {
    await registry.stop()
    throw error
  }
}

/**
 * Reads a deployment's description (given, or from the path of its state file) and checks that
 * it is of `kind`, for `attach` in another process; throws naming `what` when it is not.
 */
export function readDescription<D extends { kind: string; runDir: string }>(description: D | string, kind: D['kind'], what: string): D {
  const resolved = typeof description === 'string' ? (JSON.parse(readFileSync(description, 'utf8')) as D) : description
  if (resolved.kind !== kind) throw new Error(`Not a ${what} description: ${JSON.stringify(resolved)}`)
  return resolved
}

/** Throws a `RangeError` naming `name` unless `value` is an integer of at least `min`. */
export function requireCount(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`)
}
