import type { MasterNode } from './client-handle.js'

/** The few commands a master connection answers for the deployment check and `deleteByPrefix`. */
export interface NodeCommands {
  sendCommand(args: string[]): Promise<unknown>
  scan(cursor: string, options: { MATCH: string; COUNT: number }): Promise<{ cursor: string; keys: string[] }>
  unlink(keys: string[]): Promise<number>
}

/** A {@link MasterNode} on a node-redis connection to the master at `address`. */
export function nodeOf(address: string, node: NodeCommands): MasterNode {
  return {
    address,
    call: (...args) => node.sendCommand(args.map(String)),
    async scan(cursor, pattern, count) {
      const reply = await node.scan(cursor, { MATCH: pattern, COUNT: count })
      return [String(reply.cursor), reply.keys.map(String)]
    },
    async unlink(groups) {
      // Issued in the same tick: node-redis writes them together, one round trip.
      const counts = await Promise.all(groups.map((group) => node.unlink(group)))
      return counts.reduce((sum, count) => sum + Number(count), 0)
    },
  }
}
