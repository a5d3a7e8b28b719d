// Where a slow read's time went. Each read of a worker runs inside an AsyncLocalStorage context
// that collects what happened on its way: the tier that answered (from the `tiercache:get`
// tracing channel), every L2 call the engine made for it (the store is wrapped, so the time is
// the store's own, not the guard's timeout), every failed L2 call (`tiercache:l2-error`), the
// time in its loader, and how late the worker's event loop ran meanwhile.
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
  /** Milliseconds spent in the read's own loader calls. */
  loaderMs: number
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
export async function traceRead<T>(read: () => Promise<T>): Promise<{ value: T; trace: ReadTrace }> {
  const trace: ReadTrace = { startedAt: performance.now(), tier: undefined, steps: [], loaderMs: 0 }
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

/** A lock this worker took, from the attempt that took it until a write or release freed it. */
interface HeldLock {
  readonly key: string
  readonly requestedAt: number
  heldAt: number
  readonly events: string[]
}

/**
 * Every lock this worker takes, by token: when it was asked for, when Redis answered that it is
 * held, and each call made with its token (lease write, release) with when it was answered.
 * A lock held long blocks other instances' readers of its key: `onLongHold` hears of each one
 * held over `longMs` once it is freed (or when `flushHeld` is called, for those never freed).
 */
export class LockLedger {
  private readonly held = new Map<string, HeldLock>()

  constructor(
    private readonly longMs: number,
    private readonly onLongHold: (lock: { key: string; at: number; heldMs: number; freed: boolean; events: readonly string[] }) => void,
  ) {}

  /** Notes a call of `operation` with `args` whose answer was `outcome` after it began at `began` (`Date.now()`). */
  note(operation: string, args: readonly unknown[], began: number, outcome: unknown): void {
    const now = Date.now()
    if (operation === 'acquireLock') {
      const [key, token] = args as [string, string]
      if (outcome === true)
        this.held.set(token, { key, requestedAt: began, heldAt: now, events: [`acquire asked +0, held +${now - began}`] })
      return
    }
    const token = operation === 'setIfLeaseHeld' ? (args[2] as string) : operation === 'releaseLock' ? (args[1] as string) : undefined
    const lock = token === undefined ? undefined : this.held.get(token)
    if (token === undefined || lock === undefined) return
    lock.events.push(`${operation} asked +${began - lock.requestedAt} answered +${now - lock.requestedAt} ${String(outcome)}`)
    // A lease write that landed released the lock in the same step; `false` means it was gone already.
    const freed = operation === 'releaseLock' ? outcome === 'ok' : outcome === true || outcome === false
    if (!freed) return
    this.held.delete(token)
    if (now - lock.requestedAt > this.longMs)
      this.onLongHold({ key: lock.key, at: lock.requestedAt, heldMs: now - lock.requestedAt, freed: true, events: lock.events })
  }

  /** Reports the locks still held (taken, never freed by this worker) longer than the limit. */
  flushHeld(): void {
    const now = Date.now()
    for (const lock of this.held.values()) {
      if (now - lock.requestedAt > this.longMs)
        this.onLongHold({ key: lock.key, at: lock.requestedAt, heldMs: now - lock.requestedAt, freed: false, events: lock.events })
    }
    this.held.clear()
  }
}

/** `store` with each async call timed into the trace of the read that made it, and its locks kept in `locks`. */
export function tracedStore(store: RemoteStore, locks?: LockLedger): RemoteStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver)
      if (typeof value !== 'function' || typeof property !== 'string' || !TRACED_CALLS.has(property)) return value
      return (...args: unknown[]) => {
        const trace = storage.getStore()
        const result = (value as (...a: unknown[]) => Promise<unknown>).apply(target, args)
        if (locks !== undefined && (property === 'acquireLock' || property === 'setIfLeaseHeld' || property === 'releaseLock')) {
          const began = Date.now()
          result.then(
            (answer) => locks.note(property, args, began, answer === undefined ? 'ok' : answer),
            (error: { code?: string; message?: string }) =>
              locks.note(property, args, began, `rejected ${error?.code ?? error?.message ?? ''}`),
          )
        }
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

/** Records a loader call that began at `began` (`performance.now()`) into the current read's trace. */
export function traceLoad(began: number): void {
  const trace = storage.getStore()
  if (trace === undefined) return
  const took = performance.now() - began
  trace.loaderMs += took
  trace.steps.push(`load@${Math.round(began - trace.startedAt)}+${Math.round(took)}`)
}

function offset(trace: ReadTrace): number {
  return Math.round(performance.now() - trace.startedAt)
}

/**
 * How late the event loop ran, sampled every `everyMs`, and how much CPU this process burned in
 * each interval: a stall with the CPU busy is the process's own synchronous work, a stall without
 * it is the machine not running the process. `worstBetween` gives the worst lateness seen in a
 * time range (`Date.now()` ms), for the reads that ran in it.
 */
export class LoopLag {
  private readonly at: number[] = []
  private readonly lag: number[] = []
  private readonly cpu: number[] = []
  private readonly timer: NodeJS.Timeout

  constructor(everyMs = 20, keepMs = 60_000) {
    let expected = Date.now() + everyMs
    let lastCpu = process.cpuUsage()
    this.timer = setInterval(() => {
      const now = Date.now()
      const used = process.cpuUsage(lastCpu)
      lastCpu = process.cpuUsage()
      this.at.push(now)
      this.lag.push(Math.max(0, now - expected))
      this.cpu.push(Math.round((used.user + used.system) / 1_000))
      expected = now + everyMs
      while (this.at.length > 0 && (this.at[0] as number) < now - keepMs) {
        this.at.shift()
        this.lag.shift()
        this.cpu.shift()
      }
    }, everyMs)
    this.timer.unref()
  }

  /**
   * The worst lateness of a sample taken in `[from, to]` (a late sample reports the stall it
   * ended), and the CPU ms the process used in that sample's interval.
   */
  worstBetween(from: number, to: number): { lagMs: number; cpuMs: number } {
    let worst = { lagMs: 0, cpuMs: 0 }
    for (let i = this.at.length - 1; i >= 0; i--) {
      const at = this.at[i] as number
      if (at < from) break
      if (at <= to + 50 && (this.lag[i] as number) > worst.lagMs) worst = { lagMs: this.lag[i] as number, cpuMs: this.cpu[i] as number }
    }
    return worst
  }

  stop(): void {
    clearInterval(this.timer)
  }
}
