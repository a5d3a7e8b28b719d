import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'

/** Redis Cluster nodes listen for the cluster bus on their client port plus this offset. */
export const CLUSTER_BUS_PORT_OFFSET = 10_000

/**
 * Resolves with a loopback port that is free right now: the port the kernel gives to a socket
 * bound to port 0 on 127.0.0.1. Another process may still take it before it is used, so callers
 * retry on "address in use".
 */
export function findFreePort(): Promise<number> {
  return listenOnce(0)
}

/** Options of {@link findFreeRedisPort}. */
export interface FindFreeRedisPortOptions {
  /** Also require port + 10000 (the Redis Cluster bus port) to be free. Default `false`. */
  clusterBus?: boolean
  /** Ports already handed out (with their bus ports) that must not be returned again. Default none. */
  exclude?: ReadonlySet<number>
}

/**
 * Resolves with a free loopback port for a Redis node, and with `clusterBus` one whose bus port
 * (port + 10000) is free as well.
 *
 * Unlike {@link findFreePort} it does not take the kernel's port-0 pick: that is an ephemeral
 * port, and the kernel hands ephemeral ports to outgoing connections. A node killed in a test
 * must bind the same ports again on restart; an outgoing connection that took its port (or its
 * bus port, which for ephemeral picks often lies past 65535 anyway) in the meantime would make
 * that fail. So candidates are random ports below the ephemeral range, each checked by binding it.
 */
export async function findFreeRedisPort(options: FindFreeRedisPortOptions = {}): Promise<number> {
  const { clusterBus = false, exclude = new Set<number>() } = options
  // Leave room for the bus port below the ephemeral range even when it is not needed, so a
  // standalone port never collides with a cluster's bus port picked by the same rule.
  const high = ephemeralPortLow() - CLUSTER_BUS_PORT_OFFSET
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = LOWEST_PORT + Math.floor(Math.random() * (high - LOWEST_PORT))
    const busPort = port + CLUSTER_BUS_PORT_OFFSET
    if (exclude.has(port) || exclude.has(busPort)) continue
    if (!(await isPortFree(port))) continue
    if (clusterBus && !(await isPortFree(busPort))) continue
    return port
  }
  throw new Error('Could not find a free loopback port for a Redis node after 200 attempts')
}

// Well clear of the privileged ports and the low ports common services use.
const LOWEST_PORT = 10_000

/** Resolves `true` when 127.0.0.1:`port` can be bound right now. */
export async function isPortFree(port: number): Promise<boolean> {
  try {
    await listenOnce(port)
    return true
  } catch {
    return false
  }
}

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    // exclusive: a cluster-mode worker must not share the handle with its primary.
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
      const address = server.address()
      const bound = typeof address === 'object' && address !== null ? address.port : port
      server.close(() => resolve(bound))
    })
  })
}

/** The start of the kernel's ephemeral port range; Linux publishes it, elsewhere IANA's 49152 is assumed. */
function ephemeralPortLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
    // Keep a few thousand candidates even on a machine whose range starts unusually low.
    if (low - CLUSTER_BUS_PORT_OFFSET - LOWEST_PORT > 2_000) return low
  } catch {
    // No /proc (macOS, BSD): use the IANA dynamic range, which macOS follows.
  }
  return 49_152
}
