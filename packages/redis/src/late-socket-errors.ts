import type { Cluster, Redis } from 'ioredis'

const ignore = (): void => {}

/**
 * Gives the sockets of a client about to disconnect a listener for errors that arrive afterwards.
 * ioredis can leave a TLS socket it ends in the middle of a handshake without one, and the
 * server's alert then surfaces as an 'error' event nobody listens to: an uncaught exception that
 * ends the process. Seen on 2 to 3 of 60 disconnects made a few milliseconds into a TLS
 * handshake that failed certificate verification (ioredis 6.0.0); none with this listener.
 */
export function absorbLateSocketErrors(client: Redis | Cluster): void {
  const connections = 'nodes' in client && typeof client.nodes === 'function' ? client.nodes('all') : [client as Redis]
  for (const connection of connections) connection.stream?.on('error', ignore)
}
