import { testCluster } from '@tiercache/testkit'
import { eventually } from '@tiercache/testkit/helpers'
import { describe, expect, it } from 'vitest'
import { TopologyRecorder } from '../src/topology-recorder.js'

describe('the chaos topology recorder', () => {
  it("records each node's role once, then a killed replica not answering and back with its link up", async () => {
    const cluster = testCluster()
    const replica = (await cluster.replicas())[0]
    if (replica === undefined) throw new Error('the test cluster has no replica')
    const recorder = new TopologyRecorder(cluster)
    const started = Date.now()
    recorder.start()
    try {
      const statesOf = (port: number) => recorder.between(started, Number.POSITIVE_INFINITY).filter((e) => e.port === port)
      await eventually(() => cluster.nodes.every((node) => statesOf(node.port).length > 0))
      const first = cluster.nodes.map((node) => statesOf(node.port)[0]?.state ?? '')
      expect(first.filter((state) => state.startsWith('master of ')).length).toBe(3)
      expect(first.filter((state) => /^replica of \d+ \(cluster: \d+\), link up$/.test(state)).length).toBe(3)
      // Only changes are kept: a calm cluster adds no line.
      const calmUntil = Date.now() + 1_000
      await eventually(() => Date.now() > calmUntil)
      expect(cluster.nodes.map((node) => statesOf(node.port).length)).toEqual([1, 1, 1, 1, 1, 1])

      await cluster.kill(replica.port)
      await eventually(() => statesOf(replica.port).some((e) => e.state.startsWith('does not answer')))
      await cluster.restart(replica.port)
      await eventually(() => statesOf(replica.port).at(-1)?.state.endsWith('link up') === true)
    } finally {
      await recorder.stop()
      await cluster.ensureHealthy({ timeoutMs: 60_000 })
    }
  }, 90_000)
})
