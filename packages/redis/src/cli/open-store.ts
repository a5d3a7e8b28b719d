import { NodeConnections, parseAddress } from '../deployment/node-connections.js'
import { discoverFromSeeds } from '../deployment/topology.js'
import type { BusMode } from '../options/common-options.js'
import { redisClusterStore } from '../redis-cluster-store.js'
import type { RedisRemoteStore } from '../redis-remote-store.js'
import { redisStore } from '../redis-store.js'
import type { ConnectionTarget } from './connection-flags.js'

/**
 * Opens a store on the deployment the connection flags name, as a service's store would see it:
 * Sentinels give a Sentinel store; seed nodes are asked first (short-lived connections, like the
 * doctor) whether they are a cluster or a standalone server, and get the matching store. `bus`
 * overrides the store's default flavour (`spublish` on a cluster, `publish` otherwise), which must
 * match the services'. Resolves once the store is connected and its credentials accepted; rejects
 * with the doctor's `NothingReachableError` when no seed answers, or with `L2_AUTH` /
 * `L2_UNAVAILABLE` from `store.ready`.
 */
export async function openStore(target: ConnectionTarget, bus: BusMode | undefined): Promise<RedisRemoteStore> {
  const auth = {
    ...(target.username === undefined ? {} : { username: target.username }),
    ...(target.password === undefined ? {} : { password: target.password }),
  }
  const common = { deploymentCheck: false, ...(bus === undefined ? {} : { bus }) }
  const connection = { connectTimeout: target.timeoutMs, connectionName: 'tiercache:cli' }
  let store: RedisRemoteStore
  if (target.sentinels !== undefined) {
    store = redisStore({
      ...common,
      ...connection,
      ...auth,
      sentinels: target.sentinels.map(parseAddress),
      name: target.name ?? '',
      ...(target.sentinelPassword === undefined ? {} : { sentinelPassword: target.sentinelPassword }),
      ...(target.tls ? { tls: {}, enableTLSForSentinelMode: true } : {}),
    })
  } else {
    const seeds = target.nodes ?? []
    const connections = new NodeConnections({ ...auth, tls: target.tls }, target.timeoutMs)
    let kind: string
    try {
      kind = (await discoverFromSeeds(seeds, connections)).kind
    } finally {
      connections.close()
    }
    const first = parseAddress(seeds[0] ?? '')
    store =
      kind === 'cluster'
        ? redisClusterStore({
            ...common,
            nodes: seeds,
            redisOptions: { ...auth, ...connection, ...(target.tls ? { tls: {} } : {}) },
          })
        : redisStore({
            ...common,
            ...connection,
            ...auth,
            host: first.host,
            port: first.port,
            ...(target.tls ? { tls: { servername: first.host } } : {}),
          })
  }
  try {
    await store.ready({ timeoutMs: target.timeoutMs })
  } catch (error) {
    await store.close()
    throw error
  }
  return store
}
