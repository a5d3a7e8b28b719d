import { defineConfig } from 'vitest/config'

// One Redis Cluster (and one standalone Redis) per test run, started by the testkit's global
// setup; files run one at a time because they share it and the setup flushes it between files.
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*'],
    globalSetup: ['./packages/testkit/dist/global-setup.js'],
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
})
