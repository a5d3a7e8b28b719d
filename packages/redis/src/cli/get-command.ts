import { defineCommand, EXIT, printJson } from './command.js'
import { CONNECTION_FLAGS, CONNECTION_USAGE, connectionTarget, UsageError } from './connection-flags.js'
import { checkIds, checkName, ENTRY_FLAGS, namespaceFlag } from './entry-flags.js'
import { inspectEntry } from './entry-inspection.js'
import { entryText } from './entry-text.js'
import { openStore } from './open-store.js'

const USAGE = `Usage: tiercache get --namespace NS --entity E --id ID <where> [options]

Shows one entry as L2 holds it, without changing anything: its envelope (created, fresh until,
stale until, load time, size, tags, payload), the remaining Redis TTL, whether a load holds its
lease, and its hot-key copies (one candidate key per master is checked). A corrupt or foreign
entry is shown as such (a cache read would remove it; this command does not).

Entry:
  --namespace NS   the cache's namespace (required)
  --entity E       the entity
  --id ID          the id

${CONNECTION_USAGE}

Options:
  --json           print the report as JSON (times in ms since the epoch, the whole payload)
  -h, --help       this text

Exit status: 0 a tiercache entry was found, 1 no entry, or a corrupt or foreign one,
2 bad command line, 3 Redis unreachable or refusing.
`

const FLAGS = {
  ...CONNECTION_FLAGS,
  namespace: ENTRY_FLAGS.namespace,
  entity: ENTRY_FLAGS.entity,
  id: ENTRY_FLAGS.id,
} as const

/** `tiercache get`: an entry's envelope, TTL, lease and hot-key copies. */
export const getCommand = defineCommand({
  name: 'get',
  summary: "show an entry's envelope (times, size, tags), Redis TTL, lease and hot-key copies",
  usage: USAGE,
  flags: FLAGS,
  async body(values, env) {
    const namespace = namespaceFlag(values.namespace)
    if (values.entity === undefined) throw new UsageError('--entity is required')
    const entity = checkName('--entity', values.entity)
    const ids = values.id ?? []
    if (ids.length !== 1) throw new UsageError(`give exactly one --id (got ${ids.length})`)
    const [id] = checkIds(entity, ids) as [string]
    const store = await openStore(connectionTarget(values, env), undefined)
    try {
      const report = await inspectEntry(store, namespace, entity, id)
      if (values.json === true) printJson(report)
      else process.stdout.write(entryText(report))
      return report.state === 'entry' ? EXIT.OK : EXIT.NOT_FOUND
    } finally {
      await store.close()
    }
  },
})
