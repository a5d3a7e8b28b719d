import type { Cluster, Redis } from 'ioredis'

/**
 * The commands the store sends, common to a standalone `Redis` and a `Cluster`. Typing the
 * client by what it is used for keeps the store's code identical for both: only slot grouping
 * differs.
 */
export type DataClient = Pick<Redis, 'get' | 'mget' | 'set' | 'unlink' | 'publish' | 'spublish' | 'defineCommand' | 'quit' | 'disconnect'>

/** Views a standalone client or a cluster as a {@link DataClient}. */
export function asDataClient(client: Redis | Cluster): DataClient {
  return client as unknown as DataClient
}
