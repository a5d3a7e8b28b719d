import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config'

// One Redis Cluster (and one standalone Redis) per `vitest run`, started by the testkit's global
// setup; the setup file repairs and flushes it before each test file, and files run one at a
// time because they share it. `pnpm test` builds first, so both point at the testkit's dist.
//
// In vitest 4 a project does not inherit the root `test` options unless it says `extends: true`,
// and then it would inherit `globalSetup` too: vitest runs a global setup once per project that
// lists it, which would start one cluster per package. So the global setup lives here, on the
// root project only (whose provided values every project sees), and each project gets the
// per-file options explicitly.
const root = fileURLToPath(new URL('.', import.meta.url))
const testkitDist = join(root, 'packages/testkit/dist')

const perFileOptions = {
  setupFiles: [join(testkitDist, 'vitest-setup.js')],
  fileParallelism: false,
  testTimeout: 30_000,
  hookTimeout: 90_000,
} as const

/**
 * Every `packages/*` and `apps/*` folder whose `test/` holds a `*.test.ts` becomes a project named
 * after its folder. A folder with no tests yet is left out instead of joining the run as an empty
 * project; it is picked up on the next start once it has one.
 */
function workspaceProjects(): TestProjectInlineConfiguration[] {
  return ['packages', 'apps'].flatMap((group) =>
    readdirSync(join(root, group), { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && hasTestFiles(join(root, group, entry.name, 'test')))
      .map((entry) => ({
        ...(group === 'packages' && entry.name === 'core' ? { resolve: { alias: coreTestAliases } } : {}),
        test: {
          name: entry.name,
          root: join(root, group, entry.name),
          include: ['test/**/*.test.ts'],
          ...perFileOptions,
        },
      })),
  )
}

/**
 * core's tests use the in-memory store and the helpers of `@tiercache/testkit`, which depends on
 * core; core cannot depend back (a workspace cycle turbo cannot order). So, for the core project
 * only, those two testkit entries resolve to testkit's source (they need only core), and
 * `@tiercache/core` to core's own source: one engine, one `TierCacheError` class, no dist needed.
 * `packages/core/tsconfig.json` maps the same names for the typecheck.
 */
const coreTestAliases = [
  { find: /^@tiercache\/core$/, replacement: join(root, 'packages/core/src/index.ts') },
  { find: /^@tiercache\/testkit\/(memory|helpers)$/, replacement: join(root, 'packages/testkit/src/$1/index.ts') },
]

function hasTestFiles(dir: string): boolean {
  return existsSync(dir) && readdirSync(dir, { recursive: true }).some((file) => String(file).endsWith('.test.ts'))
}

export default defineConfig({
  test: {
    projects: workspaceProjects(),
    globalSetup: [join(testkitDist, 'global-setup.js')],
    ...perFileOptions,
  },
})
