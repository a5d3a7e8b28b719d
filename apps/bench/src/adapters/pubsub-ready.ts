/** The part of an ioredis Cluster (v5 or v6) this helper needs. */
interface NodesClient {
  nodes(role: 'all'): { call(command: string, ...args: string[]): Promise<unknown> }[]
}

/** Subscribers of classic pub/sub `channel` summed over every node of the cluster (PUBSUB NUMSUB is per node). */
export async function countSubscribers(client: NodesClient, channel: string): Promise<number> {
  const replies = await Promise.all(client.nodes('all').map((node) => node.call('PUBSUB', 'NUMSUB', channel)))
  return replies.reduce<number>((sum, reply) => sum + Number((reply as [string, number])[1] ?? 0), 0)
}

/**
 * Waits until `channel` has more than `before` subscribers on the cluster: a library that
 * subscribes its bus in the background is not ready to hear an invalidation before then.
 * Gives up silently after `timeoutMs` (the workloads then see the missed messages).
 */
export async function waitForSubscribers(client: NodesClient, channel: string, before: number, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if ((await countSubscribers(client, channel)) > before) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
