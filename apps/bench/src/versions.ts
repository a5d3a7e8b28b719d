import { readFileSync, realpathSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const BENCH_MODULES = fileURLToPath(new URL('../node_modules/', import.meta.url))

function readVersion(packageDir: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version?: string }).version
  } catch {
    return undefined
  }
}

/** The node_modules folder a package installed by pnpm sees its own dependencies in. */
function modulesOf(packageDir: string, name: string): string {
  const real = realpathSync(packageDir)
  return name.startsWith('@') ? dirname(dirname(real)) : dirname(real)
}

/**
 * Installed versions: the bench's own dependencies, and dependencies of them given as
 * `parent>child` (e.g. `@keyv/redis>@redis/client`), read from the package.json files on disk.
 * An alias (`ioredis-v6`) reports the version of the package it installs.
 */
export function installedVersions(names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of names) {
    const [parent, child] = name.split('>') as [string, string | undefined]
    const parentDir = join(BENCH_MODULES, parent)
    // A workspace package has its own node_modules; a package from the store sees its dependencies beside it.
    const version =
      child === undefined
        ? readVersion(parentDir)
        : (readVersion(join(realpathSync(parentDir), 'node_modules', child)) ?? readVersion(join(modulesOf(parentDir, parent), child)))
    out[name] = version ?? 'not installed'
  }
  return out
}
