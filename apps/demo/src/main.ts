/**
 * `pnpm demo`: a product catalogue on PostgreSQL served by two instances (Express and Fastify)
 * with tiercache in front, under generated traffic for a bounded time, then a summary. While it
 * runs, `/dashboard` on either instance shows it live and `/metrics` exports Prometheus text.
 *
 * Options (flag, or environment):
 *   --duration <s>     DEMO_DURATION    how long the traffic runs, in seconds (default 60)
 *   --port <n>         DEMO_PORT        the Express instance's port; Fastify takes the next (default 3000; 0 for free ports)
 *                      DATABASE_URL     a PostgreSQL server (default: PGlite, embedded)
 *                      REDIS_NODES      seed nodes of an existing Redis Cluster, host:port,... (default: a local cluster from redis-server)
 */
import { type DemoSummary, startDemo } from './demo.js'
import { formatSummary } from './summary.js'

interface Cli {
  durationS: number
  port: number
}

function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv): Cli {
  const flag = (name: string): string | undefined => {
    const index = argv.findIndex((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`))
    if (index === -1) return undefined
    const arg = argv[index] as string
    return arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[index + 1]
  }
  const durationS = Number(flag('duration') ?? env.DEMO_DURATION ?? 60)
  if (!Number.isFinite(durationS) || durationS < 5 || durationS > 3_600) {
    throw new Error(`--duration / DEMO_DURATION: give a number of seconds from 5 to 3600, got ${flag('duration') ?? env.DEMO_DURATION}`)
  }
  const port = Number(flag('port') ?? env.DEMO_PORT ?? 3000)
  if (!Number.isInteger(port) || port < 0 || port > 65_534) throw new Error(`--port / DEMO_PORT: give a port number, got ${port}`)
  return { durationS, port }
}

async function main(): Promise<void> {
  const cli = parseCli(process.argv.slice(2), process.env)
  const abort = new AbortController()
  let interrupted = false
  let interruptedAt = 0
  // Ctrl-C: stop the traffic at once; the summary of what ran is still printed, then everything is
  // stopped (the Redis Cluster the demo started included). A second Ctrl-C quits at once. A SIGINT
  // within a second of the first is the same Ctrl-C delivered twice (the terminal signals the whole
  // process group, and pnpm forwards it too), not a second one.
  process.on('SIGINT', () => {
    if (interrupted) {
      if (Date.now() - interruptedAt < 1_000) return
      console.log('\nStopping now.')
      process.exit(130)
    }
    interrupted = true
    interruptedAt = Date.now()
    console.log('\nInterrupted: stopping (Ctrl-C again to quit at once)...')
    abort.abort()
  })
  process.on('SIGTERM', () => abort.abort())
  const log = (line: string) => console.log(line)
  const demo = await startDemo({
    durationMs: cli.durationS * 1000,
    ...(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : {}),
    ...(process.env.REDIS_NODES ? { redisNodes: process.env.REDIS_NODES.split(',').map((node) => node.trim()) } : {}),
    ports: cli.port === 0 ? [0, 0] : [cli.port, cli.port + 1],
    signal: abort.signal,
    log,
  })
  if (abort.signal.aborted) {
    await demo.stop()
    process.exitCode = 130
    return
  }
  if (demo.l2.mode === 'l1-only') {
    console.log('No redis-server found: running L1-only (each instance caches alone; no fleet-wide single-flight, no invalidation bus).')
    console.log('Install it for the full demo: apt-get install redis-server (Debian/Ubuntu) or brew install redis (macOS).')
  }
  console.log(`Database: ${demo.database.description}`)
  console.log(`Express instance: ${demo.urls.express}   Fastify instance: ${demo.urls.fastify}`)
  console.log(`Dashboard: ${demo.urls.express}/dashboard   Metrics: ${demo.urls.express}/metrics, ${demo.urls.fastify}/metrics`)
  console.log(`Traffic for ${cli.durationS} s: Zipf reads, price updates, a cold-start stampede, a flash sale. Ctrl-C stops it.\n`)

  const progress = setInterval(() => printProgress(demo.traffic.elapsedMs() / 1000, cli.durationS, demo), 500)
  let summary: DemoSummary | undefined
  try {
    summary = await demo.run()
  } finally {
    clearInterval(progress)
    if (process.stdout.isTTY) process.stdout.write('\n')
  }
  console.log(formatSummary(summary))
  await demo.stop()
  if (summary.consistency.pastBound > 0) process.exitCode = 1
  if (interrupted) process.exitCode = 130
}

let lastPrinted = -1
function printProgress(elapsedS: number, durationS: number, demo: Awaited<ReturnType<typeof startDemo>>): void {
  const point = demo.monitor.points.at(-1)
  const reads = point ? point.tiers.l1 + point.tiers.l2 + point.tiers.stale + point.tiers.miss : 0
  const share = (n: number) => (reads === 0 ? '  -' : `${Math.round((100 * n) / reads)}%`.padStart(3))
  const width = 30
  const done = Math.min(width, Math.round((elapsedS / durationS) * width))
  const line =
    `[${'#'.repeat(done)}${'.'.repeat(width - done)}] ${Math.min(elapsedS, durationS).toFixed(0).padStart(3)}/${durationS} s  ${demo.traffic.phase.padEnd(14)}` +
    `${String(point?.requests ?? 0).padStart(6)} req/s  L1 ${share(point?.tiers.l1 ?? 0)} L2 ${share(point?.tiers.l2 ?? 0)} miss ${share(point?.tiers.miss ?? 0)}` +
    `  db ${String(point?.dbQueries ?? 0).padStart(5)} q/s  p99 ${point?.p99?.toFixed(1) ?? '-'} ms`
  if (process.stdout.isTTY) {
    process.stdout.write(`\r${line}`)
  } else if (Math.floor(elapsedS / 5) !== lastPrinted) {
    // Not a terminal (CI, a pipe): one line every 5 s instead of a bar redrawn in place.
    lastPrinted = Math.floor(elapsedS / 5)
    console.log(line)
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error)
  process.exitCode = 1
})
