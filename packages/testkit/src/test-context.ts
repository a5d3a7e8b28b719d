import { inject, type ProvidedContext } from 'vitest'
import { CLUSTER_CONTEXT_KEY, STANDALONE_CONTEXT_KEY } from './provided-context.js'
import { RedisCluster } from './redis-cluster.js'
import { RedisStandalone } from './redis-standalone.js'

const MISSING_SETUP =
  'is not provided: add the testkit global setup to the vitest config ' +
  "(test.globalSetup: ['@tiercache/testkit/global-setup'] or the path of its dist/global-setup.js)."

/** A handle on what the global setup provides under `key`, attached on first use and kept for the file. */
function providedHandle<K extends keyof ProvidedContext, H>(key: K, attach: (description: ProvidedContext[K]) => H): () => H {
  let handle: H | undefined
  return () => {
    if (handle === undefined) {
      const description = inject(key)
      if (description === undefined) throw new Error(`${key} ${MISSING_SETUP}`)
      handle = attach(description)
    }
    return handle
  }
}

/**
 * The Redis Cluster of this test run (3 masters + 3 replicas), started once by the testkit's
 * global setup and handed to every test file; the handle can kill, pause and restart its nodes.
 * Call it inside tests or hooks. The vitest setup file has already made it healthy and empty
 * before the file's tests run.
 */
export const testCluster: () => RedisCluster = providedHandle(CLUSTER_CONTEXT_KEY, (description) => RedisCluster.attach(description))

/** The standalone Redis of this test run, shared like {@link testCluster}. */
export const testStandalone: () => RedisStandalone = providedHandle(STANDALONE_CONTEXT_KEY, (description) =>
  RedisStandalone.attach(description),
)
