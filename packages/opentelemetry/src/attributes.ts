import type { Attributes } from '@opentelemetry/api'
import type { L2ErrorMessage, L2TraceContext, TraceContext } from '@tiercache/core'

/**
 * The attribute names this package sets. OpenTelemetry's own names where a convention exists
 * (`db.system.name`, `db.operation.name`, `error.type`); the `cache.*` names peers use for cache
 * spans (`cache.operation`, `cache.hit`, `cache.key`); `tiercache.*` for what is tiercache's own.
 */
export const ATTRIBUTES = Object.freeze({
  /** `get`, `getMany`, `load`, `set`, `invalidate`. */
  operation: 'cache.operation',
  /** `get` only: whether a fresh entry answered (L1 or L2). */
  hit: 'cache.hit',
  /** The id of a `get`, `set` or single load: only when the cache has `tracing: { ids: true }`, spans only. */
  key: 'cache.key',
  namespace: 'tiercache.namespace',
  entity: 'tiercache.entity',
  /** `get` only: `l1`, `l2`, `stale`, `miss`. */
  tier: 'tiercache.tier',
  /** `hit`, `stale`, `miss` (get), `ok`, `error`. */
  outcome: 'tiercache.outcome',
  /** How many ids the call covers. */
  count: 'tiercache.count',
  /** The tags of a tag invalidation. */
  tags: 'tiercache.tags',
  dbSystem: 'db.system.name',
  dbOperation: 'db.operation.name',
  /** L2 calls on several keys: how many (OpenTelemetry's name for a batch's size). */
  dbBatchSize: 'db.operation.batch.size',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  /** L2 calls: the shard as the store names it (`host:port` of the master of a cluster, `store` without shards). */
  shard: 'tiercache.l2.shard',
  errorType: 'error.type',
} as const)

/** Attributes known when a call starts. */
export function startAttributes(context: TraceContext): Attributes {
  const attributes: Attributes = {
    [ATTRIBUTES.operation]: context.operation,
    [ATTRIBUTES.namespace]: context.namespace,
    [ATTRIBUTES.count]: context.count,
  }
  if (context.entity !== undefined) attributes[ATTRIBUTES.entity] = context.entity
  if (context.id !== undefined) attributes[ATTRIBUTES.key] = context.id
  if (context.tags !== undefined) attributes[ATTRIBUTES.tags] = [...context.tags]
  return attributes
}

/** Attributes known when a call ends; also the attributes of its duration measurement (no ids: cardinality). */
export function endAttributes(context: TraceContext): Attributes {
  const attributes: Attributes = {
    [ATTRIBUTES.operation]: context.operation,
    [ATTRIBUTES.namespace]: context.namespace,
    [ATTRIBUTES.outcome]: context.outcome ?? 'ok',
  }
  if (context.entity !== undefined) attributes[ATTRIBUTES.entity] = context.entity
  if (context.tier !== undefined) {
    attributes[ATTRIBUTES.tier] = context.tier
    attributes[ATTRIBUTES.hit] = context.outcome === 'hit'
  }
  if (context.error !== undefined) attributes[ATTRIBUTES.errorType] = errorType(context.error)
  return attributes
}

/** Attributes of a failed L2 call. */
export function l2ErrorAttributes(message: L2ErrorMessage, dbSystem: string): Attributes {
  return {
    [ATTRIBUTES.dbSystem]: dbSystem,
    [ATTRIBUTES.dbOperation]: message.operation,
    [ATTRIBUTES.namespace]: message.namespace,
    [ATTRIBUTES.entity]: message.entity,
    [ATTRIBUTES.errorType]: errorType(message.error),
  }
}

/** `error.type`: a `TierCacheError`'s code, else the error's class name. */
function errorType(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    return typeof code === 'string' ? code : error.name
  }
  return '_OTHER'
}

/** Attributes of an L2 call known when it starts (span only). */
export function l2StartAttributes(context: L2TraceContext, dbSystem: string): Attributes {
  const attributes = l2CommonAttributes(context, dbSystem)
  if (context.count > 1) attributes[ATTRIBUTES.dbBatchSize] = context.count
  return attributes
}

/** Attributes of an L2 call known when it ends; also those of its duration measurement. */
export function l2EndAttributes(context: L2TraceContext, dbSystem: string): Attributes {
  const attributes = l2CommonAttributes(context, dbSystem)
  attributes[ATTRIBUTES.outcome] = context.outcome ?? 'ok'
  if (context.error !== undefined) attributes[ATTRIBUTES.errorType] = errorType(context.error)
  return attributes
}

function l2CommonAttributes(context: L2TraceContext, dbSystem: string): Attributes {
  const attributes: Attributes = {
    [ATTRIBUTES.dbSystem]: dbSystem,
    [ATTRIBUTES.dbOperation]: context.command,
    [ATTRIBUTES.namespace]: context.namespace,
    [ATTRIBUTES.shard]: context.shard,
  }
  // A cluster store names a shard by its master's `host:port`; IPv6 hosts keep their colons.
  const colon = context.shard.lastIndexOf(':')
  const port = Number(context.shard.slice(colon + 1))
  if (colon > 0 && Number.isInteger(port) && port > 0) {
    attributes[ATTRIBUTES.serverAddress] = context.shard.slice(0, colon)
    attributes[ATTRIBUTES.serverPort] = port
  }
  return attributes
}
