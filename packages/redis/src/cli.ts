#!/usr/bin/env node
/**
 * The `tiercache` command of @tiercache/redis. `tiercache doctor` examines a Redis deployment the
 * way a tiercache store sees it; see `tiercache --help` and docs/operations.md.
 */
import { parseArgs } from 'node:util'
import { parseAddress } from './deployment/node-connections.js'
import { NothingReachableError } from './deployment/topology.js'
import { runDoctor } from './doctor/doctor.js'
import { reportText } from './doctor/report-text.js'

const USAGE = `Usage: tiercache doctor <where> [options]

Where (one of):
  --nodes host:port[,host:port...]      cluster seed nodes, or a standalone server
  --sentinels host:port[,...] --name N  Sentinels and the name they monitor the primary under
  --url redis[s]://[user:pass@]host:port  one node (TLS with rediss://)

Options:
  --username U, --password P   ACL user and password (or REDIS_PASSWORD in the environment)
  --sentinel-password P        password of the Sentinels, if they have their own
  --tls                        connect with TLS
  --namespace NS               count the keys of this tiercache namespace
  --sample N                   keys looked at per master for that count (default 10000)
  --hot-keys-url URL           a service URL answering its cache.hotKeys() as JSON
  --timeout MS                 per-command and connect timeout (default 2000)
  --json                       print the report as JSON

Exit status: 0 no risk found, 1 a risk was found, 2 the check could not run.
`

/** Runs the command line; resolves with the exit status. */
async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`)
    return 2
  }
  const { positionals, values } = parsed
  if (values.help === true) {
    process.stdout.write(USAGE)
    return 0
  }
  if (positionals[0] !== 'doctor' || positionals.length !== 1) {
    process.stderr.write(USAGE)
    return 2
  }
  try {
    const list = (text: string | undefined) =>
      text
        ?.split(',')
        .map((part) => part.trim())
        .filter((part) => part !== '')
    let nodes = list(values.nodes)
    const sentinels = list(values.sentinels)
    let username = values.username
    let password = values.password ?? env.REDIS_PASSWORD
    let tls = values.tls === true
    if (values.url !== undefined) {
      const url = new URL(values.url)
      if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new Error('--url must be a redis:// or rediss:// URL')
      nodes = [`${url.hostname}:${url.port === '' ? 6379 : url.port}`]
      if (url.username !== '') username = decodeURIComponent(url.username)
      if (url.password !== '') password = decodeURIComponent(url.password)
      tls ||= url.protocol === 'rediss:'
    }
    if ([nodes, sentinels].filter((given) => given !== undefined).length !== 1) throw new Error('give one of --nodes, --sentinels or --url')
    if (sentinels !== undefined && values.name === undefined)
      throw new Error('--sentinels needs --name (the name the Sentinels monitor the primary under)')
    for (const address of [...(nodes ?? []), ...(sentinels ?? [])]) parseAddress(address)
    const sample = values.sample === undefined ? 10_000 : positiveInteger('--sample', values.sample)
    const timeoutMs = values.timeout === undefined ? 2_000 : positiveInteger('--timeout', values.timeout)
    const report = await runDoctor({
      nodes,
      sentinels,
      name: values.name,
      auth: { username, password, tls, sentinelPassword: values['sentinel-password'] },
      namespace: values.namespace,
      sample,
      hotKeysUrl: values['hot-keys-url'],
      timeoutMs,
    })
    process.stdout.write(values.json === true ? `${JSON.stringify(report, null, 2)}\n` : reportText(report))
    return report.risks > 0 ? 1 : 0
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    process.stderr.write(`tiercache doctor: ${error instanceof NothingReachableError ? '' : 'error: '}${message}\n`)
    return 2
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      nodes: { type: 'string' },
      sentinels: { type: 'string' },
      name: { type: 'string' },
      url: { type: 'string' },
      username: { type: 'string' },
      password: { type: 'string' },
      'sentinel-password': { type: 'string' },
      tls: { type: 'boolean' },
      namespace: { type: 'string' },
      sample: { type: 'string' },
      'hot-keys-url': { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
}

function positiveInteger(flag: string, text: string): number {
  const value = Number(text)
  if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} must be a positive integer, got "${text}"`)
  return value
}

process.exitCode = await main(process.argv.slice(2))
