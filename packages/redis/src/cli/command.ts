import { type ParseArgsConfig, parseArgs } from 'node:util'
import { NothingReachableError } from '../deployment/topology.js'
import { UsageError } from './connection-flags.js'

/**
 * Exit statuses of the `tiercache` commands other than `doctor` (whose own are 0 no risk, 1 a
 * risk, 2 could not run):
 * - `OK` (0): done (invalidation reached L2 and the bus; the entry was found; the stats were read);
 * - `NOT_FOUND` (1): `get` found no entry, or one that is corrupt or foreign;
 * - `USAGE` (2): the command line is wrong (a missing or bad flag); nothing was sent;
 * - `FAILED` (3): the command could not be completed: Redis or the service unreachable, credentials
 *   refused, or an invalidation that did not reach L2 or the bus.
 */
export const EXIT = Object.freeze({ OK: 0, NOT_FOUND: 1, USAGE: 2, FAILED: 3 })

/** One `tiercache` command. */
export interface Command {
  name: string
  /** One line for `tiercache --help`. */
  summary: string
  /** `tiercache <name> --help`. */
  usage: string
  /** Runs the command on its own arguments (after the command name); resolves with the exit status. */
  run(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number>
}

/** The values `parseArgs` gives for flags `T`. */
export type FlagValues<T extends NonNullable<ParseArgsConfig['options']>> = ReturnType<
  typeof parseArgs<{ args: string[]; options: T; strict: true; allowPositionals: false }>
>['values']

/** `parseArgs` in strict mode without positionals; its errors (unknown flag, missing value) become {@link UsageError}s. */
export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(argv: readonly string[], options: T): FlagValues<T> {
  // Named here rather than by parseArgs, whose wording differs between Node versions.
  for (const arg of argv) {
    if (arg === '--') break
    const name = arg.startsWith('--') ? arg.slice(2).split('=')[0] : undefined
    if (name !== undefined && !Object.hasOwn(options, name)) throw new UsageError(`unknown option --${name}`)
  }
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error))
  }
}

/** The flags every command has: `--json` (print the report as JSON) and `-h`/`--help` (print the usage). */
export const COMMON_FLAGS = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

/** What {@link defineCommand} needs to make a {@link Command}. */
export interface CommandSpec<T extends NonNullable<ParseArgsConfig['options']>> extends Omit<Command, 'run'> {
  /** The command's own flags; {@link COMMON_FLAGS} are added to them. */
  flags: T
  /** The exit status when the body throws anything but a {@link UsageError} (default `EXIT.FAILED`; `doctor` uses 2). */
  failedStatus?: number
  /** The command's own work on its parsed flags; resolves with the exit status. */
  body(values: FlagValues<T & typeof COMMON_FLAGS>, env: NodeJS.ProcessEnv): Promise<number>
}

/**
 * A {@link Command} on the skeleton every `tiercache` command shares: parse the flags strictly,
 * answer `--help` with the usage, run the body, and turn what it throws into an exit status (see {@link guard}).
 */
export function defineCommand<T extends NonNullable<ParseArgsConfig['options']>>(spec: CommandSpec<T>): Command {
  const { flags, failedStatus, body, ...command } = spec
  return {
    ...command,
    run: (argv, env) =>
      guard(
        command,
        async () => {
          const values = parseFlags(argv, { ...flags, ...COMMON_FLAGS })
          // Read through the common flags' own type: on the generic `T` TypeScript cannot see `help`.
          if ((values as FlagValues<typeof COMMON_FLAGS>).help === true) {
            process.stdout.write(command.usage)
            return EXIT.OK
          }
          return body(values, env)
        },
        failedStatus,
      ),
  }
}

/**
 * Runs a command's body and turns what it throws into the exit status and a message on stderr:
 * a {@link UsageError} prints its message and where the usage is, and exits 2; anything else (Redis unreachable,
 * `L2_AUTH`, ...) exits `failedStatus` (default 3).
 */
export async function guard(
  command: Pick<Command, 'name' | 'usage'>,
  body: () => Promise<number>,
  failedStatus: number = EXIT.FAILED,
): Promise<number> {
  try {
    return await body()
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`tiercache ${command.name}: ${error.message}\n${usageHint(command.name)}`)
      return EXIT.USAGE
    }
    // A TierCacheError's message starts with its code already (`L2_AUTH: ...`).
    const message = error instanceof Error ? error.message : String(error)
    process.stderr.write(`tiercache ${command.name}: ${error instanceof NothingReachableError ? '' : 'error: '}${message}\n`)
    return failedStatus
  }
}

/** The line after a usage error's message. */
export function usageHint(name: string): string {
  return `(tiercache ${name} --help shows its options)\n`
}

/** Writes `value` as indented JSON and a newline (`--json`). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}
