import { type ChildProcess, fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import type { NodeAddress } from '@tiercache/testkit'
import { type AdapterSpec, selectedContenders } from '../adapters/index.js'
import { median } from '../harness.js'
import { uniqueNamespace } from './common.js'
import type { DoneMessage, GoMessage, StampedeWorkerConfig, WorkerMessage } from './stampede-protocol.js'

/** Processes that read the cold key at once. */
export const STAMPEDE_PROCESSES = 4
/** Concurrent `get` calls per process. */
export const STAMPEDE_CALLERS = 250
/** Loader duration (ms). */
export const STAMPEDE_LOADER_MS = 100
/** Rounds, each on a fresh cold key; medians are reported (issue 17 states its goal as a median of 5). */
export const STAMPEDE_ROUNDS = 5
// A worker that has not answered by then is treated as stuck and the workload fails.
const WORKER_TIMEOUT_MS = 30_000

/** One round: a cold key read by every caller of every process at once. */
export interface StampedeRound {
  round: number
  key: string
  /** Loader calls summed over the processes (the goal is 1). */
  loaderCalls: number
  /** The slowest process' time from `go` to its last caller served (ms). */
  serveAllMs: number
  /** Median over the processes of their median caller time (ms). */
  p50Ms: number
  errors: number
  /**
   * From the first load's end to the last caller of any process served (ms, wall clock across
   * processes): what waiting for another process' load adds on top of the loader; `null` when no
   * caller's value came from a load of this round.
   */
  afterLoadMs: number | null
  /** Distinct versions seen by all callers of all processes. */
  versions: number[]
  perProcess: Omit<DoneMessage, 'type' | 'round'>[]
}

/** One contender's rounds. */
export interface StampedeFigure {
  contender: string
  profile: string
  rounds: StampedeRound[]
  /** Median over rounds. */
  median: { loaderCalls: number; serveAllMs: number; p50Ms: number; errors: number }
}

/** The cross-process stampede workload's result. */
export interface StampedeResult {
  processes: number
  callersPerProcess: number
  loaderMs: number
  figures: StampedeFigure[]
}

/**
 * (d) Cross-process stampede, contender by contender (each in its default set-up): forks worker
 * processes, each with its own instance on the cluster; once all report ready, the parent says
 * go, and each worker fires `callers` concurrent reads of one cold key whose loader takes `loaderMs`.
 */
export async function runStampede(
  seeds: readonly NodeAddress[],
  children: Set<ChildProcess>,
  specs: readonly AdapterSpec[] = selectedContenders(),
): Promise<StampedeResult> {
  const figures: StampedeFigure[] = []
  for (const spec of specs) {
    const profile = spec.profiles[0] ?? 'l1'
    const rounds = await stampedeContender(
      {
        seeds: [...seeds],
        namespace: uniqueNamespace('stampede4', spec.name),
        contender: spec.name,
        profile,
        callers: STAMPEDE_CALLERS,
        loaderMs: STAMPEDE_LOADER_MS,
      },
      children,
    )
    figures.push({
      contender: spec.name,
      profile,
      rounds,
      median: {
        loaderCalls: median(rounds.map((r) => r.loaderCalls)),
        serveAllMs: median(rounds.map((r) => r.serveAllMs)),
        p50Ms: median(rounds.map((r) => r.p50Ms)),
        errors: median(rounds.map((r) => r.errors)),
      },
    })
  }
  return { processes: STAMPEDE_PROCESSES, callersPerProcess: STAMPEDE_CALLERS, loaderMs: STAMPEDE_LOADER_MS, figures }
}

async function stampedeContender(config: StampedeWorkerConfig, children: Set<ChildProcess>): Promise<StampedeRound[]> {
  const script = fileURLToPath(new URL('./stampede-worker.js', import.meta.url))
  const workers = Array.from(
    { length: STAMPEDE_PROCESSES },
    () => new Worker(fork(script, [JSON.stringify(config)], { stdio: 'inherit' }), children),
  )
  try {
    const rounds: StampedeRound[] = []
    for (let round = 1; round <= STAMPEDE_ROUNDS; round++) {
      // The barrier: every worker is connected and idle before anyone starts.
      await Promise.all(workers.map((worker) => worker.next('ready')))
      const key = `cold-${round}-${randomBytes(4).toString('hex')}`
      const done = workers.map((worker) => worker.next('done'))
      for (const worker of workers) worker.send({ type: 'go', round, key })
      const results = (await Promise.all(done)) as DoneMessage[]
      const versions = new Set(results.flatMap((r) => r.versions))
      const loadsEnded = results.flatMap((r) => (r.loadedAt === null ? [] : [r.loadedAt]))
      rounds.push({
        round,
        key,
        loaderCalls: results.reduce((sum, r) => sum + r.loaderCalls, 0),
        serveAllMs: Math.max(...results.map((r) => r.serveAllMs)),
        p50Ms: median(results.map((r) => r.p50Ms)),
        errors: results.reduce((sum, r) => sum + r.errors, 0),
        afterLoadMs: loadsEnded.length === 0 ? null : Math.max(...results.map((r) => r.lastServedAt)) - Math.min(...loadsEnded),
        versions: [...versions],
        perProcess: results.map(({ type: _type, round: _round, ...rest }) => rest),
      })
    }
    return rounds
  } finally {
    await Promise.all(workers.map((worker) => worker.stop()))
  }
}

/** The parent's side of one worker: its messages as a queue awaited by type. */
class Worker {
  private readonly inbox: WorkerMessage[] = []
  private waiter: { type: WorkerMessage['type']; resolve: (m: WorkerMessage) => void; reject: (e: Error) => void } | null = null
  private failure: Error | null = null

  constructor(
    private readonly child: ChildProcess,
    children: Set<ChildProcess>,
  ) {
    children.add(child)
    child.on('message', (message: WorkerMessage) => {
      if (message.type === 'failed') this.fail(new Error(`stampede worker ${child.pid} failed: ${message.message}`))
      else this.inbox.push(message)
      this.deliver()
    })
    child.on('exit', (code, signal) => {
      children.delete(child)
      this.fail(new Error(`stampede worker ${child.pid} exited (code ${code}, signal ${signal})`))
    })
  }

  /** The next message of `type` (messages of other types before it are dropped). */
  next(type: WorkerMessage['type']): Promise<WorkerMessage> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`stampede worker ${this.child.pid}: no "${type}" within ${WORKER_TIMEOUT_MS} ms`)),
        WORKER_TIMEOUT_MS,
      )
      this.waiter = {
        type,
        resolve: (m) => {
          clearTimeout(timer)
          resolve(m)
        },
        reject: (e) => {
          clearTimeout(timer)
          reject(e)
        },
      }
      this.deliver()
    })
  }

  send(message: GoMessage): void {
    this.child.send(message)
  }

  /** Closes the channel (the worker closes its cache and exits), and kills it if it lingers. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()))
    if (this.child.connected) this.child.disconnect()
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000)
    await exited
    clearTimeout(timer)
  }

  private deliver(): void {
    const waiter = this.waiter
    if (waiter === null) return
    if (this.failure !== null) {
      this.waiter = null
      waiter.reject(this.failure)
      return
    }
    while (this.inbox.length > 0) {
      const message = this.inbox.shift() as WorkerMessage
      if (message.type === waiter.type) {
        this.waiter = null
        waiter.resolve(message)
        return
      }
    }
  }

  private fail(error: Error): void {
    this.failure ??= error
    this.deliver()
  }
}
