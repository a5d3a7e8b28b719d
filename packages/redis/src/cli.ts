#!/usr/bin/env node
/**
 * The `tiercache` command of @tiercache/redis: `doctor` examines a Redis deployment, `invalidate`
 * invalidates entries on every running instance, `get` shows an entry as L2 holds it, `stats`
 * prints a running service's counters. `tiercache <command> --help` and docs/operations.md.
 */
import { EXIT } from './cli/command.js'
import { doctorCommand } from './cli/doctor-command.js'
import { getCommand } from './cli/get-command.js'
import { invalidateCommand } from './cli/invalidate-command.js'
import { statsCommand } from './cli/stats-command.js'

const COMMANDS = [doctorCommand, invalidateCommand, getCommand, statsCommand]

const USAGE = `Usage: tiercache <command> [options]

Commands:
${COMMANDS.map((command) => `  ${command.name.padEnd(11)} ${command.summary}`).join('\n')}

tiercache <command> --help shows a command's options and exit statuses.
`

/** Runs the command line; resolves with the exit status. */
async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    ;(name === undefined ? process.stderr : process.stdout).write(USAGE)
    return name === undefined ? EXIT.USAGE : EXIT.OK
  }
  const command = COMMANDS.find((candidate) => candidate.name === name)
  if (command === undefined) {
    process.stderr.write(`tiercache: unknown command ${JSON.stringify(name)}\n\n${USAGE}`)
    return EXIT.USAGE
  }
  return command.run(rest, process.env)
}

process.exitCode = await main(process.argv.slice(2))
