import { Redis } from 'ioredis'
import { standaloneSubscriberTopology } from './bus/subscriber-topology.js'
import { type RedisStoreOptions, resolveStandaloneStoreOptions } from './options/standalone-store-options.js'
import { RedisRemoteStore } from './redis-remote-store.js'

/**
 * A `RemoteStore` on a standalone Redis (or one found through Sentinel).
 *
 * Pass `host`/`port` or a `url` (plus any ioredis `RedisOptions`: `tls`, `username`,
 * `password`, `db`, `sentinels`, ...) and the store creates and owns a `Redis` client, with
 * the defaults of `DEFAULT_STANDALONE_STORE_OPTIONS` (auto-pipelining on, one retry per
 * command); or pass `{ client }`, an ioredis `Redis` the application already has, which
 * `close()` leaves open. `bus` picks classic (`'publish'`, the default) or sharded
 * (`'spublish'`, Redis >= 7) pub/sub.
 *
 * Connections: one for every command, plus one subscriber connection once something subscribes.
 *
 * @throws TierCacheError `INVALID_CONFIG` for invalid options, naming the bad field.
 */
export function redisStore(options: RedisStoreOptions): RedisRemoteStore {
  const resolved = resolveStandaloneStoreOptions(options)
  let client: Redis
  if (resolved.kind === 'client') client = resolved.client
  else if (resolved.url === undefined) client = new Redis(resolved.redisOptions)
  else client = new Redis(resolved.url, resolved.redisOptions)
  return new RedisRemoteStore({
    name: 'redis',
    client,
    ownsClient: resolved.kind !== 'client',
    cluster: false,
    bus: resolved.bus,
    topology: standaloneSubscriberTopology(client),
  })
}
