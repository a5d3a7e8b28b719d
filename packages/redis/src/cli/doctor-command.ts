import { runDoctor } from '../doctor/doctor.js'
import { reportText } from '../doctor/report-text.js'
import { defineCommand, printJson } from './command.js'
import { CONNECTION_FLAGS, CONNECTION_USAGE, connectionTarget, positiveInteger } from './connection-flags.js'

const USAGE = `Usage: tiercache doctor <where> [options]

Examines a Redis deployment the way a tiercache store sees it: topology, memory and eviction
policy, keyspace statistics per node, a namespace's key count, a service's hot keys, and the
risks the store warns about at start-up.

${CONNECTION_USAGE}

Options:
  --namespace NS               count the keys of this tiercache namespace
  --sample N                   keys looked at per master for that count (default 10000)
  --hot-keys-url URL           a service URL answering its cache.hotKeys() as JSON
  --json                       print the report as JSON
  -h, --help                   this text

Exit status: 0 no risk found, 1 a risk was found, 2 the check could not run.
`

const FLAGS = {
  ...CONNECTION_FLAGS,
  namespace: { type: 'string' },
  sample: { type: 'string' },
  'hot-keys-url': { type: 'string' },
} as const

/** `tiercache doctor`: see docs/operations.md. Exit 0 no risk, 1 a risk, 2 could not run. */
export const doctorCommand = defineCommand({
  name: 'doctor',
  summary: 'examine a Redis deployment the way a store sees it (exit 1 on a risk)',
  usage: USAGE,
  flags: FLAGS,
  // Unlike the other commands, doctor exits 2 both on a bad command line and when the check cannot run.
  failedStatus: 2,
  async body(values, env) {
    const target = connectionTarget(values, env)
    const report = await runDoctor({
      nodes: target.nodes,
      sentinels: target.sentinels,
      name: target.name,
      auth: { username: target.username, password: target.password, tls: target.tls, sentinelPassword: target.sentinelPassword },
      namespace: values.namespace,
      sample: values.sample === undefined ? 10_000 : positiveInteger('--sample', values.sample),
      hotKeysUrl: values['hot-keys-url'],
      timeoutMs: target.timeoutMs,
    })
    if (values.json === true) printJson(report)
    else process.stdout.write(reportText(report))
    return report.risks > 0 ? 1 : 0
  },
})
