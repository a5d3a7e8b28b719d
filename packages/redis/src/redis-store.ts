import { storeCommonOf } from '@tiercache/redis-common'
import { Redis } from 'ioredis'
import { standaloneSubscriberTopology } from './bus/subscriber-topology.js'
import { type RedisStoreOptions, resolveStandaloneStoreOptions } from './options/standalone-store-options.js'
import { type ReadRouting, sentinelReadRouting } from './read-routing.js'
import { RedisRemoteStore } from './redis-remote-store.js'

/**
 * A `RemoteStore` on a standalone Redis, or on the primary of a Redis Sentinel deployment
 * (`{ sentinels: [{ host, port }, ...], name: 'mymaster' }`): the store asks the Sentinels for
 * the primary, and after a failover reconnects to the replica they promoted. `readFrom` (Sentinel
 * only) sends reads, all or only hot keys', to a replica connection found through the Sentinels.
 *
 * Pass `host`/`port` or a `url` (plus any ioredis `RedisOptions`: `tls`, `username`,
 * `password`, `db`, `sentinels`, ...) and the store creates and owns a `Redis` client, with
 * the defaults of `DEFAULT_STANDALONE_STORE_OPTIONS` (auto-pipelining on, one retry per
 * command); or pass `{ client }`, an ioredis `Redis` the application already has, which
 * `close()` leaves open. `bus` picks classic (`'publish'`, the default) or sharded
 * (`'spublish'`, Redis >= 7) pub/sub.
 *
 * Connections: one for every command (plus one to a replica with `readFrom`), plus one
 * subscriber connection once something subscribes.
 *
 * @throws TierCacheError `INVALID_CONFIG` for invalid options, naming the bad field.
 */
export function redisStore(options: RedisStoreOptions): RedisRemoteStore {
  const resolved = resolveStandaloneStoreOptions(options)
  let client: Redis
  let reads: ReadRouting | undefined
  if (resolved.kind === 'client') client = resolved.client
  else if (resolved.url === undefined) client = new Redis(resolved.redisOptions)
  else client = new Redis(resolved.url, resolved.redisOptions)
  if (resolved.kind === 'connect' && resolved.readFrom !== 'primary') {
    const replica = client.duplicate({ role: 'slave', connectionName: 'tiercache:replica' })
    // Its failures show as reads served by the primary instead; nothing to print.
    replica.on('error', () => {})
    reads = sentinelReadRouting(client, replica, resolved.readFrom)
  }
  const sentinels = client.options.sentinels
  return new RedisRemoteStore({
    ...storeCommonOf(resolved),
    name: sentinels ? 'redis-sentinel' : 'redis',
    client,
    ownsClient: resolved.kind !== 'client',
    cluster: false,
    topology: standaloneSubscriberTopology(client),
    reads,
    seeds:
      resolved.kind === 'client' || !sentinels
        ? undefined
        : sentinels.map((sentinel) => `${sentinel.host ?? 'localhost'}:${sentinel.port ?? 26379}`),
  })
}
