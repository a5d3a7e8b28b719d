import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { testCluster } from '@tiercache/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// The packages as a user gets them: packed, installed outside the workspace, run on the Node
// running this test (pnpm test:runtimes runs it on 22 and 24 too).
const run = promisify(execFile)
const workspaceRoot = fileURLToPath(new URL('../../..', import.meta.url))
const packagesDir = join(workspaceRoot, 'packages')
const INSTALL_TIMEOUT_MS = 600_000
// Generous: tsc and pnpm in a scratch project on a loaded 2-core machine.
const STEP_TIMEOUT_MS = 240_000

/** Entry points that import vitest (the conformance suite, testCluster, the setup files). */
const VITEST_BOUND = new Set(['@tiercache/testkit', '@tiercache/testkit/vitest-setup'])

interface PackedPackage {
  name: string
  tarball: string
  exports: Record<string, unknown>
}

/** Every package under packages/ that is not private, in folder order. */
function publishablePackages(): { dir: string; name: string }[] {
  return readdirSync(packagesDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => join(packagesDir, entry.name))
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
    .filter(({ manifest }) => manifest.private !== true)
    .map(({ dir, manifest }) => ({ dir, name: manifest.name as string }))
}

async function node(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, args, { cwd, timeout: STEP_TIMEOUT_MS })
  return stdout
}

let project: string
let packed: PackedPackage[]

beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), 'tiercache-consumer-'))
  const tarballs = join(project, 'tarballs')
  mkdirSync(tarballs)
  packed = []
  for (const { dir, name } of publishablePackages()) {
    const { stdout } = await run('pnpm', ['pack', '--pack-destination', tarballs, '--json'], { cwd: dir, timeout: 120_000 })
    const { filename } = JSON.parse(stdout) as { filename: string }
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
    packed.push({ name, tarball: filename, exports: manifest.exports })
  }
  // @types/express: what a TypeScript Express project has (express ships no types).
  // The tarballs depend on each other by version (pnpm pack rewrote workspace:*); the overrides
  // point those at the tarballs too, as a registry would serve them.
  const files = Object.fromEntries(packed.map(({ name, tarball }) => [name, `file:${tarball}`]))
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({
      name: 'scratch',
      private: true,
      dependencies: { ...files, '@types/node': '^20.19.43', '@types/express': '^5.0.6' },
      pnpm: { overrides: files },
    }),
  )
  // --no-frozen-lockfile: CI=1 makes pnpm expect a lockfile, which a scratch project has not.
  await run('pnpm', ['install', '--prefer-offline', '--no-frozen-lockfile', '--ignore-scripts'], {
    cwd: project,
    timeout: INSTALL_TIMEOUT_MS,
  })
}, INSTALL_TIMEOUT_MS)

afterAll(() => {
  if (project !== undefined) rmSync(project, { recursive: true, force: true })
})

describe('the packed packages in a scratch project', { timeout: STEP_TIMEOUT_MS }, () => {
  it('run the README example as an L1-only cache (ESM)', async () => {
    writeFileSync(
      join(project, 'l1.mjs'),
      [
        "import { createCache } from '@tiercache/core'",
        "const cache = createCache({ namespace: 'shop', entities: { product: { ttl: '10m' } } })",
        "const products = cache.entity('product')",
        "console.log(JSON.stringify(await products.get('42', async (id) => ({ id, name: 'Lamp' }))))",
        'await cache.close()',
      ].join('\n'),
    )
    expect(JSON.parse(await node(project, ['l1.mjs']))).toEqual({ id: '42', name: 'Lamp' })
  })

  it('run the README example on the Redis Cluster: a second cache reads the first one’s value from L2', async () => {
    writeFileSync(
      join(project, 'l2.mjs'),
      [
        "import { createCache } from '@tiercache/core'",
        "import { redisClusterStore } from '@tiercache/redis'",
        "const open = () => createCache({ namespace: 'shop', l2: redisClusterStore({ nodes: process.argv.slice(2) }), entities: { product: { ttl: '10m' } } })",
        'const [first, second] = [open(), open()]',
        "await first.entity('product').get('42', async (id) => ({ id, name: 'Lamp' }))",
        "console.log(JSON.stringify(await second.entity('product').get('42', async () => { throw new Error('not from L2') })))",
        'await Promise.all([first.close(), second.close()])',
      ].join('\n'),
    )
    const seeds = testCluster()
      .seeds()
      .map(({ host, port }) => `${host}:${port}`)
    expect(JSON.parse(await node(project, ['l2.mjs', ...seeds]))).toEqual({ id: '42', name: 'Lamp' })
  })

  it('require() every entry point of every package from CommonJS', async () => {
    const specifiers = packed.flatMap(({ name, exports }) =>
      Object.keys(exports)
        .filter((subpath) => subpath !== './package.json')
        .map((subpath) => (subpath === '.' ? name : `${name}/${subpath.slice(2)}`)),
    )
    writeFileSync(
      join(project, 'require-all.cjs'),
      [
        `const specifiers = ${JSON.stringify(specifiers)}`,
        'const load = (specifier) => { try { return Object.keys(require(specifier)).length } catch (error) { return error.message } }',
        'console.log(JSON.stringify(Object.fromEntries(specifiers.map((specifier) => [specifier, load(specifier)]))))',
      ].join('\n'),
    )
    const loaded = JSON.parse(await node(project, ['require-all.cjs'])) as Record<string, number | string>
    expect(specifiers).toEqual(expect.arrayContaining(['@tiercache/core', '@tiercache/core/http', '@tiercache/redis']))
    for (const specifier of specifiers) {
      if (VITEST_BOUND.has(specifier)) {
        // vitest refuses require() by design; a CommonJS project's test files still import the
        // testkit, since vitest loads them as ESM (docs/commonjs.md).
        expect(loaded[specifier], specifier).toMatch(/^Vitest cannot be imported in a CommonJS module using require\(\)/)
      } else {
        // A failed require() comes back as its message: name it in the failure.
        expect(typeof loaded[specifier], `${specifier}: ${loaded[specifier]}`).toBe('number')
        expect(loaded[specifier], specifier).toBeGreaterThan(0)
      }
    }
  })

  it('run the L1-only example from CommonJS', async () => {
    writeFileSync(
      join(project, 'l1.cjs'),
      [
        "const { createCache, TierCacheError } = require('@tiercache/core')",
        "const cache = createCache({ namespace: 'shop', entities: { product: { ttl: '10m' } } })",
        "cache.entity('product').get('', async () => 1).catch((error) => {",
        '  console.log(JSON.stringify({ typed: error instanceof TierCacheError, code: error.code }))',
        '  return cache.close()',
        '})',
      ].join('\n'),
    )
    expect(JSON.parse(await node(project, ['l1.cjs']))).toEqual({ typed: true, code: 'INVALID_KEY' })
  })

  it('resolve their types in a CommonJS TypeScript project (module and moduleResolution node16)', async () => {
    const imports = packed.map(({ name }, index) => `import * as package${index} from '${name}'`)
    writeFileSync(
      join(project, 'consumer.ts'),
      [
        ...imports,
        "import { httpCacheKey } from '@tiercache/core/http'",
        "import { createCache, type EntityHandle } from '@tiercache/core'",
        "const cache = createCache({ namespace: 'shop', entities: { product: { ttl: '10m' } } })",
        "export const products: EntityHandle<{ id: string }> = cache.entity<{ id: string }>('product')",
        `export const loaded = [${packed.map((_, index) => `package${index}`).join(', ')}, httpCacheKey]`,
      ].join('\n'),
    )
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'node16', moduleResolution: 'node16', target: 'ES2022', strict: true, noEmit: true, types: ['node'] },
        files: ['consumer.ts'],
      }),
    )
    // The scratch package.json has no "type", so consumer.ts is a CommonJS module.
    const tsc = join(workspaceRoot, 'node_modules/typescript/bin/tsc')
    await expect(node(project, [tsc, '-p', 'tsconfig.json'])).resolves.toBe('')
  })
})
