/** One Redis node, as the inspection talks to it: its address and a way to send it a command. */
export interface NodeCaller {
  /** `host:port`, as shown in reports and warnings. */
  readonly address: string
  call(...args: (string | number)[]): Promise<unknown>
}

/**
 * What one node says about itself. Fields are absent when the node did not say (unreachable,
 * `CONFIG` refused, a section missing from `INFO`).
 */
export interface NodeFacts {
  /** `host:port`. */
  address: string
  /** `false` when the node did not answer `INFO`; `error` then says why. */
  reachable: boolean
  error?: string
  /** From `INFO replication`. */
  role?: 'master' | 'replica'
  /** `redis_version`. */
  version?: string
  /** `CONFIG GET maxmemory`, in bytes; 0 means no limit. */
  maxmemory?: number
  /** `CONFIG GET maxmemory-policy`, e.g. `allkeys-lru` or `noeviction`. */
  maxmemoryPolicy?: string
  /** The server's reply when `CONFIG GET` was refused (a renamed command, an ACL, a managed service). */
  configDenied?: string
  /** `used_memory`, in bytes. */
  usedMemory?: number
  /** `used_memory_human`, e.g. `1.52M`. */
  usedMemoryHuman?: string
  /** Keys in database 0 (`INFO keyspace`). */
  keys?: number
  /** `keyspace_hits` / `keyspace_misses` since the node started (or `CONFIG RESETSTAT`). */
  keyspaceHits?: number
  keyspaceMisses?: number
  /** `evicted_keys`: keys removed by the eviction policy since start. */
  evictedKeys?: number
  /** `cluster_state` from `CLUSTER INFO` (cluster nodes only): `ok` or `fail`. */
  clusterState?: string
  /** `CONFIG GET cluster-require-full-coverage` (cluster nodes only). */
  requireFullCoverage?: boolean
  /** `CONFIG GET save`: the RDB snapshot points (`''` when snapshots are off). */
  save?: string
  /** `CONFIG GET appendonly`. */
  appendOnly?: boolean
  /** `CONFIG GET rdb-del-sync-files` (Redis 6.2+): whether a replica deletes the RDB of a full sync once loaded. */
  rdbDelSyncFiles?: boolean
}

/** Replies that mean "you may not run CONFIG here" rather than "the node is down". */
const CONFIG_DENIED = /^(NOPERM|ERR unknown command|ERR unknown subcommand)|command not allowed|not permitted/i

/**
 * Asks one node about itself: `INFO`, `CONFIG GET` of `maxmemory`, `maxmemory-policy` and what a
 * restart reloads (`save`, `appendonly`, `rdb-del-sync-files`; one call each: Redis before 7 takes
 * one parameter per `CONFIG GET`) and, in a cluster, `CLUSTER INFO`. Never rejects: a node that
 * does not answer is reported as unreachable.
 */
export async function nodeFacts(node: NodeCaller, options: { cluster: boolean }): Promise<NodeFacts> {
  const [info, maxmemory, policy, clusterInfo, coverage, save, appendOnly, delSyncFiles] = await Promise.allSettled([
    node.call('INFO'),
    node.call('CONFIG', 'GET', 'maxmemory'),
    node.call('CONFIG', 'GET', 'maxmemory-policy'),
    options.cluster ? node.call('CLUSTER', 'INFO') : Promise.resolve(undefined),
    options.cluster ? node.call('CONFIG', 'GET', 'cluster-require-full-coverage') : Promise.resolve(undefined),
    node.call('CONFIG', 'GET', 'save'),
    node.call('CONFIG', 'GET', 'appendonly'),
    node.call('CONFIG', 'GET', 'rdb-del-sync-files'),
  ])
  if (info.status === 'rejected') return { address: node.address, reachable: false, error: messageOf(info.reason) }
  const fields = parseInfo(String(info.value))
  const facts: NodeFacts = { address: node.address, reachable: true }
  const role = fields.get('role')
  if (role !== undefined) facts.role = role === 'master' ? 'master' : 'replica'
  setString(facts, 'version', fields.get('redis_version'))
  setNumber(facts, 'usedMemory', fields.get('used_memory'))
  setString(facts, 'usedMemoryHuman', fields.get('used_memory_human'))
  setNumber(facts, 'keyspaceHits', fields.get('keyspace_hits'))
  setNumber(facts, 'keyspaceMisses', fields.get('keyspace_misses'))
  setNumber(facts, 'evictedKeys', fields.get('evicted_keys'))
  // "db0:keys=12,expires=12,avg_ttl=0"; an empty database has no line at all.
  facts.keys = Number(/(?:^|,)keys=(\d+)/.exec(fields.get('db0') ?? '')?.[1] ?? 0)
  for (const [result, field] of [
    [maxmemory, 'maxmemory'],
    [policy, 'maxmemoryPolicy'],
  ] as const) {
    if (result.status === 'rejected') {
      const message = messageOf(result.reason)
      if (CONFIG_DENIED.test(message)) facts.configDenied ??= message
      continue
    }
    const value = configValue(result.value)
    if (value === undefined) continue
    if (field === 'maxmemory') setNumber(facts, 'maxmemory', value)
    else facts.maxmemoryPolicy = value
  }
  if (clusterInfo.status === 'fulfilled' && clusterInfo.value !== undefined) {
    setString(facts, 'clusterState', parseInfo(String(clusterInfo.value)).get('cluster_state'))
  }
  if (coverage.status === 'fulfilled' && coverage.value !== undefined) {
    const value = configValue(coverage.value)
    if (value !== undefined) facts.requireFullCoverage = value === 'yes'
  }
  // Refusals of these were seen on maxmemory's CONFIG GET already; a Redis without
  // rdb-del-sync-files (before 6.2) answers an empty list, and the fact stays unknown.
  const saveValue = save.status === 'fulfilled' ? configValue(save.value) : undefined
  if (saveValue !== undefined) facts.save = saveValue
  const appendOnlyValue = appendOnly.status === 'fulfilled' ? configValue(appendOnly.value) : undefined
  if (appendOnlyValue !== undefined) facts.appendOnly = appendOnlyValue === 'yes'
  const delSyncFilesValue = delSyncFiles.status === 'fulfilled' ? configValue(delSyncFiles.value) : undefined
  if (delSyncFilesValue !== undefined) facts.rdbDelSyncFiles = delSyncFilesValue === 'yes'
  return facts
}

/** `INFO`-style text (`field:value` lines, `#` section headers) as a map. */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>()
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':')
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1).trim())
  }
  return fields
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** `CONFIG GET x` answers `[x, value]` (RESP2) or `{ x: value }` (RESP3). */
function configValue(reply: unknown): string | undefined {
  if (Array.isArray(reply)) return reply.length >= 2 ? String(reply[1]) : undefined
  if (typeof reply === 'object' && reply !== null) {
    const [value] = Object.values(reply)
    return value === undefined ? undefined : String(value)
  }
  return undefined
}

function setNumber<K extends 'maxmemory' | 'usedMemory' | 'keyspaceHits' | 'keyspaceMisses' | 'evictedKeys'>(
  facts: NodeFacts,
  field: K,
  raw: string | undefined,
): void {
  if (raw === undefined) return
  const value = Number(raw)
  if (Number.isFinite(value)) facts[field] = value
}

function setString<K extends 'version' | 'usedMemoryHuman' | 'clusterState'>(facts: NodeFacts, field: K, raw: string | undefined): void {
  if (raw !== undefined && raw !== '') facts[field] = raw
}
