#!/usr/bin/env node
// Checks that imports inside packages/core/src flow one way (docs/architecture.md, "Layers"):
//
//   index.ts → http/ → cache.ts, engine.ts → entity/ → {l2/, invalidation/, hot-keys/, metrics/} → config/ → util/
//
// A file may import from its own folder and from any layer below its own; folders of one layer
// may import each other (madge's cycle check keeps that acyclic). Anything else is a violation:
// it prints each one and exits with status 1. Usage: node check-layers.mjs [srcDir]
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The rank of each layer; a file may import only from its own layer or a lower one. */
const RANKS = {
  util: 0,
  config: 1,
  l2: 2,
  invalidation: 2,
  'hot-keys': 2,
  metrics: 2,
  entity: 3,
  cache: 4,
  http: 5,
  index: 6,
}

/**
 * Upward imports allowed on purpose, each type-only. The options of `createCache` carry the
 * user's store, so the config schema names the RemoteStore contract (an interface that imports
 * nothing).
 */
const ALLOWED = [{ from: 'config/config-schema.ts', to: 'l2/remote-store.ts' }]

/** The layer of a file, from its path relative to src: its first folder, or `cache`/`index` for files at the top. */
function layerOf(path) {
  const parts = path.split(sep)
  if (parts.length === 1) return parts[0] === 'index.ts' ? 'index' : 'cache'
  return parts[0]
}

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? walk(path) : path.endsWith('.ts') ? [path] : []
  })
}

const IMPORT = /^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+'(\.{1,2}\/[^']+)'|import\(\s*'(\.{1,2}\/[^']+)'\s*\)/gm

/** Every layer violation under `srcDir`, as `file → imported: why` lines. */
export function findViolations(srcDir) {
  const root = resolve(srcDir)
  const violations = []
  for (const file of walk(root)) {
    const from = relative(root, file)
    const fromLayer = layerOf(from)
    if (!(fromLayer in RANKS)) {
      violations.push(
        `${from}: folder "${fromLayer}" has no layer; add it to RANKS in ${relative(process.cwd(), fileURLToPath(import.meta.url))}`,
      )
      continue
    }
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const spec = match[3] ?? match[4]
      const typeOnly = match[2] !== undefined
      const to = relative(root, resolve(dirname(file), spec.replace(/\.js$/, '.ts')))
      const toLayer = layerOf(to)
      if (toLayer === fromLayer) continue
      if ((RANKS[toLayer] ?? Number.POSITIVE_INFINITY) <= RANKS[fromLayer]) continue
      if (typeOnly && ALLOWED.some((allowed) => allowed.from === from && allowed.to === to)) continue
      violations.push(`${from} → ${to}: layer "${fromLayer}" may not import from layer "${toLayer}" above it`)
    }
  }
  return violations
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const srcDir = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'src')
  const violations = findViolations(srcDir)
  for (const line of violations) console.error(line)
  if (violations.length > 0) {
    console.error(`${violations.length} layer violation(s) in ${srcDir}; see docs/architecture.md ("Layers")`)
    process.exit(1)
  }
  console.log(`layers: no violation in ${srcDir}`)
}
