import { type RedisCluster, testCluster, testStandalone } from '@tiercache/testkit'
import { expect, vi } from 'vitest'

/** Direct access to the Redis servers behind a store, bypassing the client under test. */
export interface Admin {
  /** Client ports of the masters (the one server for a standalone Redis). */
  masterPorts(): Promise<number[]>
  /** Client ports of every node. */
  allPorts(): number[]
  send(port: number, args: readonly (string | number)[]): Promise<unknown>
}

export function clusterAdmin(): Admin {
  const cluster = testCluster()
  return {
    masterPorts: async () => (await cluster.masters()).map((master) => master.port),
    allPorts: () => cluster.seeds().map((seed) => seed.port),
    send: (port, args) => cluster.command(port, args),
  }
}

export function standaloneAdmin(): Admin {
  const standalone = testStandalone()
  return {
    masterPorts: async () => [standalone.port],
    allPorts: () => [standalone.port],
    send: (_port, args) => standalone.command(args),
  }
}

/** How many times `command` ran on the server, from `INFO commandstats`. */
export async function commandCalls(admin: Admin, port: number, command: string): Promise<number> {
  const info = String(await admin.send(port, ['INFO', 'commandstats']))
  const match = new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info)
  return match ? Number(match[1]) : 0
}

/**
 * The store's connections on every live node, by `CLIENT SETNAME` name (`tiercache`,
 * `tiercache:bus`). Nodes that do not answer (killed by the test) are skipped.
 */
export async function storeConnections(admin: Admin): Promise<{ port: number; name: string; flags: string }[]> {
  const found: { port: number; name: string; flags: string }[] = []
  for (const port of admin.allPorts()) {
    let list: string
    try {
      list = String(await admin.send(port, ['CLIENT', 'LIST']))
    } catch {
      continue
    }
    for (const line of list.split('\n')) {
      const name = /(?:^| )name=(\S*)/.exec(line)?.[1]
      if (name === 'tiercache' || name === 'tiercache:bus') {
        found.push({ port, name, flags: /(?:^| )flags=(\S*)/.exec(line)?.[1] ?? '' })
      }
    }
  }
  return found
}

/**
 * Takes slots 0..99 away from the node on `port` of a one-master `cluster` and waits until it
 * reports `cluster_state:fail`: a cluster with slots no master serves, as the deployment checks
 * must find it.
 */
export async function failSlots(cluster: RedisCluster, port: number): Promise<void> {
  await cluster.command(port, ['CLUSTER', 'DELSLOTSRANGE', 0, 99])
  await vi.waitFor(async () => expect(String(await cluster.command(port, ['CLUSTER', 'INFO']))).toContain('cluster_state:fail'), {
    timeout: 15_000,
    interval: 100,
  })
}
