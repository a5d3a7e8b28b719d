import { parseDuration } from '@tiercache/core'
import type { BusMode } from '@tiercache/redis-common'
import { defineCommand, EXIT, printJson } from './command.js'
import { CONNECTION_FLAGS, CONNECTION_USAGE, connectionTarget, flagError, UsageError } from './connection-flags.js'
import { checkIds, checkName, checkTags, ENTRY_FLAGS, namespaceFlag } from './entry-flags.js'
import { invalidateFleet } from './fleet-invalidation.js'
import { openStore } from './open-store.js'

const USAGE = `Usage: tiercache invalidate --namespace NS --entity E --id ID [--id ID ...] <where> [options]
       tiercache invalidate --namespace NS --tag T [--tag T ...] <where> [options]

Invalidates entries on every running instance exactly as entity.invalidate(ids) and
cache.invalidateTag(tags) do: deletes the L2 values and their leases, tombstones their hot-key
copies on every master, stamps the tags, and publishes on the namespace's bus so every instance
drops its L1 copies.

Entries:
  --namespace NS         the cache's namespace (required)
  --entity E --id ID     ids of one entity (repeat --id for several)
  --tag T                tags (repeat --tag for several); may be combined with --entity/--id

${CONNECTION_USAGE}

Options:
  --bus publish|spublish the services' bus flavour (default: spublish on a cluster, publish otherwise)
  --lifetime DURATION    longest ttl + grace of any entity of the namespace (default 1d);
                         a tag stamp lives twice that, like the services' own stamps
  --json                 print the result as JSON
  -h, --help             this text

Exit status: 0 done, 2 bad command line (nothing sent), 3 not done or not confirmed (Redis
unreachable or refusing, or a delete, stamp or bus message failed): run it again.
`

const FLAGS = {
  ...CONNECTION_FLAGS,
  ...ENTRY_FLAGS,
  bus: { type: 'string' },
  lifetime: { type: 'string' },
} as const

/** `tiercache invalidate`: invalidation by ids or tags, through the bus, from the command line. */
export const invalidateCommand = defineCommand({
  name: 'invalidate',
  summary: 'invalidate ids of an entity, or tags, on every running instance (L2 and every L1)',
  usage: USAGE,
  flags: FLAGS,
  async body(values, env) {
    const namespace = namespaceFlag(values.namespace)
    const ids = values.id ?? []
    const tags = checkTags(values.tag ?? [])
    if (values.entity !== undefined && ids.length === 0) throw new UsageError('--entity needs at least one --id')
    if (ids.length > 0 && values.entity === undefined) throw new UsageError('--id needs --entity (the entity the ids belong to)')
    if (ids.length === 0 && tags.length === 0) throw new UsageError('nothing to invalidate: give --entity with --id, or --tag')
    const entity = values.entity === undefined ? undefined : checkName('--entity', values.entity)
    if (entity !== undefined) checkIds(entity, ids)
    const bus = busFlag(values.bus)
    const lifetimeMs = lifetimeFlag(values.lifetime)
    const target = connectionTarget(values, env)
    const store = await openStore(target, bus)
    const outcome = await invalidateFleet(store, { namespace, entity, ids, tags, lifetimeMs, timeoutMs: target.timeoutMs })
    const done = outcome.failures.length === 0
    if (values.json === true) {
      printJson({ ...outcome, ok: done })
    } else {
      const what = [
        ...(ids.length > 0 ? [`${entity} ${ids.map((id) => JSON.stringify(id)).join(', ')}`] : []),
        ...(tags.length > 0 ? [`tag${tags.length > 1 ? 's' : ''} ${tags.map((tag) => JSON.stringify(tag)).join(', ')}`] : []),
      ].join(' and ')
      if (done) {
        process.stdout.write(
          `invalidated ${what} in namespace "${namespace}": L2 and hot-key copies cleared, published on ${outcome.channel}\n`,
        )
      } else {
        process.stderr.write(
          `tiercache invalidate: NOT confirmed for ${what} in namespace "${namespace}" (run it again):\n${outcome.failures.map((failure) => `  ${failure}\n`).join('')}`,
        )
      }
    }
    return done ? EXIT.OK : EXIT.FAILED
  },
})

function busFlag(value: string | undefined): BusMode | undefined {
  if (value === undefined || value === 'publish' || value === 'spublish') return value
  throw new UsageError(`--bus must be publish or spublish, got ${JSON.stringify(value)}`)
}

function lifetimeFlag(value: string | undefined): number {
  if (value === undefined) return 86_400_000
  let ms: number
  try {
    ms = parseDuration(value, '--lifetime')
  } catch (error) {
    throw flagError('', error)
  }
  if (ms < 1) throw new UsageError('--lifetime must be longer than 0')
  return ms
}
