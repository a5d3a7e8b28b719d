import { setTimeout as sleep } from 'node:timers/promises'
import type { RedisCluster } from '@tiercache/testkit'
import type { FaultWindow } from './checker.js'
import type { Fault, ScheduledFault } from './schedule.js'
import { moveSlots, slotsOf } from './slot-mover.js'

const HEAL_TIMEOUT_MS = 90_000

/**
 * Runs one fault against the cluster and brings the cluster back to full strength after it.
 * Resolves with the window from the fault's start to the moment every node is healthy again
 * (every slot served, every replica in sync): the checker's "cluster whole again".
 */
export async function injectFault(cluster: RedisCluster, scheduled: ScheduledFault): Promise<FaultWindow> {
  const start = Date.now()
  const label = await run(cluster, scheduled.fault, scheduled.pick)
  try {
    await cluster.ensureHealthy({ timeoutMs: HEAL_TIMEOUT_MS })
  } catch (error) {
    throw new Error(`the cluster did not heal after "${label}"; CLUSTER NODES per node:\n${await describeNodes(cluster)}`, { cause: error })
  }
  return { label, start, end: Date.now() }
}

async function describeNodes(cluster: RedisCluster): Promise<string> {
  const views = await Promise.all(
    cluster.nodes.map(async (node) => {
      const text = await cluster.command(node.port, ['CLUSTER', 'NODES']).catch((error: Error) => error.message)
      return `--- ${node.port}\n${String(text)}`
    }),
  )
  return views.join('\n')
}

async function run(cluster: RedisCluster, fault: Fault, pick: number): Promise<string> {
  switch (fault.kind) {
    case 'kill-master': {
      const master = choose(await cluster.masters(), pick)
      await cluster.kill(master.port)
      await cluster.waitForFailover(master.port, { timeoutMs: HEAL_TIMEOUT_MS })
      await cluster.restart(master.port)
      return `kill master ${master.port}`
    }
    case 'kill-replica': {
      const replica = choose(await cluster.replicas(), pick)
      await cluster.kill(replica.port)
      await cluster.restart(replica.port)
      return `kill replica ${replica.port}`
    }
    case 'pause-master':
    case 'pause-replica': {
      const nodes = fault.kind === 'pause-master' ? await cluster.masters() : await cluster.replicas()
      const node = choose(nodes, pick)
      await cluster.pause(node.port)
      await sleep(fault.pauseMs)
      await cluster.resume(node.port)
      return `pause ${fault.kind === 'pause-master' ? 'master' : 'replica'} ${node.port} for ${fault.pauseMs} ms`
    }
    case 'kill-pubsub': {
      await Promise.all(
        cluster.nodes.map((node) => cluster.command(node.port, ['CLIENT', 'KILL', 'TYPE', 'pubsub']).catch(() => undefined)),
      )
      return 'kill pub/sub connections on every node'
    }
    case 'move-slots': {
      const masters = await cluster.masters()
      const source = choose(masters, pick)
      const target = choose(
        masters.filter((master) => master.id !== source.id),
        pick,
      )
      const owned = slotsOf(source)
      const count = Math.min(fault.count, owned.length - 1)
      if (count <= 0) return `move no slots (${source.port} keeps its last slot)`
      const from = pick % (owned.length - count + 1)
      await moveSlots(cluster, source, target, owned.slice(from, from + count))
      return `move ${count} slots ${source.port} -> ${target.port}`
    }
  }
}

function choose<T>(items: readonly T[], pick: number): T {
  const item = items[pick % items.length]
  if (item === undefined) throw new Error('no node to pick: the cluster is not whole')
  return item
}
