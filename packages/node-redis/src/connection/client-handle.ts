import type { EventEmitter } from 'node:events'
import type { RedisClientType, RedisClusterType, RedisSentinelType } from '@redis/client'
import type { NodeCaller, ScanNode } from '@tiercache/redis-common'

/** A node-redis client of any kind the store runs on. */
export type NodeRedisClient = RedisClientType | RedisClusterType | RedisSentinelType

/** `SET` options the store sends (node-redis v5 form). */
export interface SetCommandOptions {
  expiration: { type: 'PX'; value: number }
}

/**
 * The commands the store sends, common to a node-redis client, cluster and Sentinel client.
 * Typing the client by what it is used for keeps the store's code identical for all three: only
 * slot grouping and routing differ.
 */
export interface DataCommands {
  get(key: string): Promise<string | null>
  mGet(keys: string[]): Promise<(string | null)[]>
  set(key: string, value: string, options: SetCommandOptions): Promise<string | null>
  unlink(keys: string[]): Promise<number>
  evalSha(sha: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>
}

/** A master (primary) as the deployment check and `deleteByPrefix` see it. */
export interface MasterNode extends NodeCaller, ScanNode {}

/**
 * What the store needs of its client, whatever its kind: the factories build one per kind
 * (`cluster-handle.ts`, `standalone-handle.ts`). The client's `error` events and failed connect
 * attempts reach `watch` listeners; the store never lets them surface as unhandled errors.
 */
export interface ClientHandle {
  readonly kind: 'cluster' | 'standalone' | 'sentinel'
  readonly client: NodeRedisClient
  readonly commands: DataCommands
  /**
   * Emits `failure` (error, node address if known) for every connection error and failed connect
   * attempt, `ready` when connected, `closed` once `close` is called.
   */
  readonly events: EventEmitter
  /** `PUBLISH` (or `SPUBLISH` when `sharded`) on the primary. */
  publish(sharded: boolean, channel: string, message: string): Promise<number>
  /** Connected and able to run commands. */
  isReady(): boolean
  /**
   * Connects, retrying until connected or closed. Resolves once connected; never rejects (every
   * failed attempt is reported to the `watch` listeners).
   */
  connect(): Promise<void>
  /** The masters (a cluster's; the primary otherwise), connected. */
  masters(): Promise<MasterNode[]>
  /** `host:port` of the master serving a slot; `undefined` outside a cluster or while the map is unknown. */
  masterOfSlot(slot: number): string | undefined
  /** `Redis at host:port` or `the Redis cluster`, for messages. */
  describe(): string
  /** Stops connecting, emits `closed`, and closes the client when `closeClient` (the store owns it); idempotent. */
  close(closeClient: boolean): Promise<void>
}
