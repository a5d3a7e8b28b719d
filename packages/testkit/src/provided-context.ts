import type { RedisClusterDescription } from './redis-cluster-options.js'
import type { RedisStandaloneDescription } from './redis-standalone.js'

/** The `provide`/`inject` key under which the global setup hands the cluster to test files. */
export const CLUSTER_CONTEXT_KEY = 'tiercache:cluster'

/** The `provide`/`inject` key under which the global setup hands the standalone Redis to test files. */
export const STANDALONE_CONTEXT_KEY = 'tiercache:standalone'

declare module 'vitest' {
  /** What the tiercache testkit's global setup provides to every test file of the run. */
  export interface ProvidedContext {
    'tiercache:cluster': RedisClusterDescription
    'tiercache:standalone': RedisStandaloneDescription
  }
}
