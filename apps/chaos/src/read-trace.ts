// Where a slow read's time went. Each read of a worker runs inside an AsyncLocalStorage context
// that collects what happened on its way: the tier that answered (from the `tiercache:get`
// tracing channel), every L2 call the engine made for it (the store is wrapped, so the time is
// the store's own, not the guard's timeout), every failed L2 call (`tiercache:l2-error`), the
// loader's round trip to the coordinator, and how late the worker's event loop ran meanwhile.
// Reads that joined another read's single flight run no L2 call of their own: their steps are
// empty and their tier is the flight's.
import { AsyncLocalStorage } from 'node:async_hooks'
import { subscribe, tracingChannel } from 'node:diagnostics_channel'
import type { RemoteStore } from '@tiercache/core'

/** What one read went through; only slow reads' traces leave the worker. */
export interface ReadTrace {
  /** `performance.now()` when the read began; step offsets count from it. */
  readonly startedAt: number
  tier: string | undefined
  /** `op@offset+duration result`, in the order the calls finished. */
  readonly steps: string[]
  /** Milliseconds the read's own loader spent waiting for the coordinator's answer. */
  ipcMs: number
  /** Of `ipcMs`: from the worker's send until the coordinator handled the message. */
  toCoordinatorMs: number
  /** Loader requests of this worker still unanswered when the read began. */
  pendingAtStart: number
}

const TRACED_CALLS = new Set([
  'get',
  'getHot',
  'getMany',
  'set',
  'delete',
  'deleteDurably',
  'acquireLock',
  'setIfLeaseHeld',
  'releaseLock',
  'getTagStamps',
  'setReplica',
  'tombstone',
])

const storage = new AsyncLocalStorage<ReadTrace>()

/** The trace of the read running in this async context, if any. */
export function currentTrace(): ReadTrace | undefined {
  return storage.getStore()
}

/** Runs `read` with a fresh trace, and resolves with its result and the trace. */
export async function traceRead<T>(pendingAtStart: number, read: () => Promise<T>): Promise<{ value: T; trace: ReadTrace }> {
  const trace: ReadTrace = { startedAt: performance.now(), tier: undefined, steps: [], ipcMs: 0, toCoordinatorMs: 0, pendingAtStart }
  const value = await storage.run(trace, read)
  return { value, trace }
}

/** Subscribes to the engine's channels once per process: the tier of each get and each failed L2 call. */
export function observeEngine(): void {
  tracingChannel('tiercache:get').subscribe({
    start() {},
    end() {},
    asyncStart() {},
    error() {},
    asyncEnd(context) {
      const trace = storage.getStore()
      const tier = (context as { tier?: string }).tier
      if (trace !== undefined && trace.tier === undefined) trace.tier = tier ?? 'joined'
    },
  })
  subscribe('tiercache:l2-error', (message) => {
    const trace = storage.getStore()
    if (trace === undefined) return
    const { operation, error } = message as { operation: string; error: { code?: string; message?: string } }
    trace.steps.push(`!${operation}@${offset(trace)} ${error?.code ?? error?.message ?? 'error'}`)
  })
}

/** `store` with each async call timed into the trace of the read that made it. */
export function tracedStore(store: RemoteStore): RemoteStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver)
      if (typeof value !== 'function' || typeof property !== 'string' || !TRACED_CALLS.has(property)) return value
      return (...args: unknown[]) => {
        const trace = storage.getStore()
        const result = (value as (...a: unknown[]) => Promise<unknown>).apply(target, args)
        if (trace === undefined) return result
        const at = offset(trace)
        const began = performance.now()
        const done = (outcome: string) => trace.steps.push(`${property}@${at}+${Math.round(performance.now() - began)} ${outcome}`)
        result.then(
          (answer) => done(typeof answer === 'boolean' ? String(answer) : 'ok'),
          (error: { code?: string; message?: string }) => done(`rejected ${error?.code ?? error?.message ?? ''}`),
        )
        return result
      }
    },
  })
}

function offset(trace: ReadTrace): number {
  return Math.round(performance.now() - trace.startedAt)
}

/**
 * How late the event loop ran, sampled every `everyMs`: `maxBetween` gives the worst lateness seen
 * in a time range (`Date.now()` ms), for the reads that ran in it.
 */
export class LoopLag {
  private readonly at: number[] = []
  private readonly lag: number[] = []
  private readonly timer: NodeJS.Timeout

  constructor(everyMs = 20, keepMs = 60_000) {
    let expected = Date.now() + everyMs
    this.timer = setInterval(() => {
      const now = Date.now()
      this.at.push(now)
      this.lag.push(Math.max(0, now - expected))
      expected = now + everyMs
      while (this.at.length > 0 && (this.at[0] as number) < now - keepMs) {
        this.at.shift()
        this.lag.shift()
      }
    }, everyMs)
    this.timer.unref()
  }

  /** The worst lateness of a sample taken in `[from, to]` (a late sample reports the stall it ended). */
  maxBetween(from: number, to: number): number {
    let worst = 0
    for (let i = this.at.length - 1; i >= 0; i--) {
      const at = this.at[i] as number
      if (at < from) break
      if (at <= to + 50) worst = Math.max(worst, this.lag[i] as number)
    }
    return worst
  }

  stop(): void {
    clearInterval(this.timer)
  }
}
