import { describe, expect, it } from 'vitest'
import { seeds, tiercache } from './cli-run.js'

// Every refusal happens before anything is sent: exit 2, the reason and where the usage is on stderr.
const CASES: [string[], string][] = [
  [
    ['invalidate', '--entity', 'product', '--id', '42'],
    'tiercache invalidate: --namespace is required: tiercache only touches the keys of the namespace you name\n(tiercache invalidate --help shows its options)\n',
  ],
  [
    ['get', '--entity', 'product', '--id', '42'],
    'tiercache get: --namespace is required: tiercache only touches the keys of the namespace you name\n(tiercache get --help shows its options)\n',
  ],
  [
    ['invalidate', '--namespace', 'shop'],
    'tiercache invalidate: nothing to invalidate: give --entity with --id, or --tag\n(tiercache invalidate --help shows its options)\n',
  ],
  [
    ['invalidate', '--namespace', 'shop', '--id', '42'],
    'tiercache invalidate: --id needs --entity (the entity the ids belong to)\n(tiercache invalidate --help shows its options)\n',
  ],
  [
    ['invalidate', '--namespace', 'shop', '--entity', 'product'],
    'tiercache invalidate: --entity needs at least one --id\n(tiercache invalidate --help shows its options)\n',
  ],
  [
    ['invalidate', '--namespace', 'a b', '--tag', 't'],
    'tiercache invalidate: --namespace must be 1 to 64 letters, digits, "_", "-" or ".", got "a b"\n(tiercache invalidate --help shows its options)\n',
  ],
  [
    ['invalidate', '--namespace', 'shop', '--entity', 'product', '--id', ''],
    'tiercache invalidate: --id: entity "product": an id must be a non-empty string of at most 512 characters, got an empty string\n(tiercache invalidate --help shows its options)\n',
  ],
  [
    ['invalidate', '--namespace', 'shop', '--tag', 't', '--bus', 'broadcast'],
    'tiercache invalidate: --bus must be publish or spublish, got "broadcast"\n(tiercache invalidate --help shows its options)\n',
  ],
  [
    ['invalidate', '--namespace', 'shop', '--tag', 't', '--lifetime', 'forever'],
    "tiercache invalidate: --lifetime: expected a duration (milliseconds as a number >= 0, or a string like '500ms', '30s', '10m', '1h'), got \"forever\"\n(tiercache invalidate --help shows its options)\n",
  ],
  [
    ['invalidate', '--namespace', 'shop', '--tag', 't'],
    'tiercache invalidate: give one of --nodes, --sentinels or --url\n(tiercache invalidate --help shows its options)\n',
  ],
  [
    ['invalidate', '--namespace', 'shop', '--tag', 't', '--nodes', 'cache.internal'],
    'tiercache invalidate: not a host:port address: "cache.internal"\n(tiercache invalidate --help shows its options)\n',
  ],
  [['get', '--namespace', 'shop', '--id', '42'], 'tiercache get: --entity is required\n(tiercache get --help shows its options)\n'],
  [
    ['get', '--namespace', 'shop', '--entity', 'product', '--id', '1', '--id', '2'],
    'tiercache get: give exactly one --id (got 2)\n(tiercache get --help shows its options)\n',
  ],
  [
    ['get', '--namespace', 'shop', '--entity', 'product', '--id', '1', '--tag', 't'],
    'tiercache get: unknown option --tag\n(tiercache get --help shows its options)\n',
  ],
  [['stats'], 'tiercache stats: --service is required (the base URL of a running service)\n(tiercache stats --help shows its options)\n'],
  [
    ['stats', '--service', 'redis://10.0.0.1'],
    'tiercache stats: --service must be an http:// or https:// URL, got "redis://10.0.0.1"\n(tiercache stats --help shows its options)\n',
  ],
  [
    ['stats', '--service', 'http://127.0.0.1:3000', '--timeout', '0'],
    'tiercache stats: --timeout must be a positive integer, got "0"\n(tiercache stats --help shows its options)\n',
  ],
]

describe('tiercache refuses a bad command line (child process)', () => {
  it.each(CASES)('tiercache %j', async (args, stderr) => {
    const run = await tiercache(args)
    expect(run.stderr).toBe(stderr)
    expect(run.stdout).toBe('')
    expect(run.code).toBe(2)
  })

  it('names an unknown command and lists the commands', async () => {
    const run = await tiercache(['flush', '--nodes', seeds()])
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/^tiercache: unknown command "flush"\n\nUsage: tiercache <command> \[options\]\n\nCommands:\n {2}doctor /)
    for (const name of ['invalidate', 'get', 'stats']) expect(run.stderr).toContain(`\n  ${name} `)
  })

  it('prints each command’s usage with --help, exit statuses included, and exits 0', async () => {
    for (const name of ['doctor', 'invalidate', 'get', 'stats']) {
      const run = await tiercache([name, '--help'])
      expect(run.code).toBe(0)
      expect(run.stdout).toMatch(new RegExp(`^Usage: tiercache ${name} `))
      expect(run.stdout).toContain('Exit status: 0 ')
    }
  })
})
