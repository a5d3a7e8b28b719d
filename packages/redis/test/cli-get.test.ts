import { KeyBuilder, type TierCache } from '@tiercache/core'
import { describe, expect, it } from 'vitest'
import type { EntryReport } from '../src/cli/entry-inspection.js'
import { cliTestFile, type Run, seeds, tiercache } from './cli-run.js'
import { eventually, fleet, uniqueNamespace } from './engine/helpers.js'

const file = cliTestFile()
const { cleanups } = file

function report(run: Run): EntryReport {
  if (run.stdout.trim() === '') throw new Error(`no output; stderr: ${run.stderr}`)
  return JSON.parse(run.stdout) as EntryReport
}

async function serviceCache(namespace: string): Promise<TierCache> {
  const { caches, close } = await fleet(1, {
    namespace,
    entities: {
      product: { ttl: '10m', grace: '1h', jitter: 0, tags: () => ['category:7', 'brand:2'], hot: { keys: ['42'], replicas: 2 } },
    },
  })
  cleanups.push(close)
  return caches[0] as TierCache
}

describe('tiercache get (child process) on the test cluster', () => {
  it("shows a real entry's envelope, Redis TTL and its hot-key copies with their masters", async () => {
    const namespace = uniqueNamespace()
    const cache = await serviceCache(namespace)
    const value = { id: '42', name: 'Desk lamp' }
    const before = Date.now()
    await cache.entity('product').get('42', () => value)
    const keys = new KeyBuilder(namespace, 'product')
    const copyKeys = Array.from({ length: 64 }, (_, n) => keys.replicaKey('42', n))
    await eventually(async () => (await Promise.all(copyKeys.map((key) => file.redis.exists(key)))).filter(Boolean).length === 2, 10_000)

    const run = await tiercache(['get', '--namespace', namespace, '--entity', 'product', '--id', '42', '--nodes', seeds(), '--json'])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const entry = report(run)
    const payload = JSON.stringify(value)
    const slots = (file.redis.slots as string[][]).map((nodes) => nodes[0])
    expect(entry).toMatchObject({
      namespace,
      entity: 'product',
      id: '42',
      key: `{${namespace}:product:42}`,
      state: 'entry',
      lease: { held: false, ttlMs: null },
      replicaCandidates: 3, // one per master
    })
    expect(entry.master).toBe(slots[entry.slot])
    const envelope = entry.envelope
    expect(envelope).toMatchObject({
      kind: 'value',
      tags: ['category:7', 'brand:2'],
      payload,
      payloadBytes: payload.length,
      status: 'fresh',
    })
    expect(envelope?.createdAt).toBeGreaterThanOrEqual(before - 1_000)
    expect(envelope?.freshUntil).toBe((envelope?.createdAt ?? 0) + 600_000)
    expect(envelope?.staleUntil).toBe((envelope?.createdAt ?? 0) + 600_000 + 3_600_000)
    expect(entry.sizeBytes).toBe(Buffer.byteLength((await file.redis.get(entry.key)) ?? ''))
    expect(entry.ttlMs).toBeGreaterThan(0)
    expect(entry.ttlMs).toBeLessThanOrEqual(4_200_000)
    expect(entry.replicas).toHaveLength(2)
    for (const copy of entry.replicas) {
      expect(copy).toMatchObject({ state: 'copy', createdAt: envelope?.createdAt })
      expect(copy.master).toBe(await masterOf(copy.key))
      expect(copy.ttlMs).toBeGreaterThan(0)
    }
    expect(new Set(entry.replicas.map((copy) => copy.master)).size).toBe(2)

    const text = await tiercache(['get', '--namespace', namespace, '--entity', 'product', '--id', '42', '--nodes', seeds()])
    expect(text.code).toBe(0)
    expect(text.stdout).toContain(
      `product "42" in namespace "${namespace}" (key {${namespace}:product:42}, slot ${entry.slot} on ${entry.master})`,
    )
    expect(text.stdout).toContain('  status       fresh value\n')
    expect(text.stdout).toContain(`  created      ${new Date(envelope?.createdAt ?? 0).toISOString()} (`)
    expect(text.stdout).toContain(`  size         ${entry.sizeBytes} bytes in Redis (payload ${payload.length} bytes)\n`)
    expect(text.stdout).toContain('  tags         category:7, brand:2\n')
    expect(text.stdout).toContain(`  payload      ${payload}\n`)
    expect(text.stdout).toContain('  hot copies   2 of 3 candidate keys hold a copy\n')
    for (const copy of entry.replicas) expect(text.stdout).toContain(`    ${copy.key} on ${copy.master}: copy, TTL `)
  })

  it('shows a corrupt or foreign entry as such, leaves it in place, and exits 1', async () => {
    const namespace = uniqueNamespace()
    const key = new KeyBuilder(namespace, 'product').valueKey('7')
    await file.redis.set(key, 'not an envelope at all', 'PX', 60_000)
    const run = await tiercache(['get', '--namespace', namespace, '--entity', 'product', '--id', '7', '--nodes', seeds(), '--json'])
    expect(run.code).toBe(1)
    const entry = report(run)
    expect(entry).toMatchObject({
      state: 'corrupt',
      sizeBytes: 22,
      corrupt: { type: 'string', reason: 'not a tiercache envelope of this version', preview: 'not an envelope at all' },
    })
    expect(entry.envelope).toBeUndefined()
    expect(await file.redis.get(key)).toBe('not an envelope at all')

    const text = await tiercache(['get', '--namespace', namespace, '--entity', 'product', '--id', '7', '--nodes', seeds()])
    expect(text.code).toBe(1)
    expect(text.stdout).toMatch(
      new RegExp(
        `^CORRUPT entry for product "7" in namespace "${namespace}" \\(key \\{${namespace}:product:7\\}, slot \\d+ on [\\d.:]+\\): not a tiercache envelope of this version; a cache read treats it as a miss and removes it\n`,
      ),
    )
    expect(text.stdout).toContain('  starts with  "not an envelope at all"\n')

    await file.redis.hset(new KeyBuilder(namespace, 'product').valueKey('8'), 'field', 'value')
    const hash = report(
      await tiercache(['get', '--namespace', namespace, '--entity', 'product', '--id', '8', '--nodes', seeds(), '--json']),
    )
    expect(hash).toMatchObject({ state: 'corrupt', sizeBytes: null, corrupt: { type: 'hash', reason: 'a Redis hash, not a string' } })
  })

  it('says plainly that an entry is missing and exits 1', async () => {
    const namespace = uniqueNamespace()
    const run = await tiercache(['get', '--namespace', namespace, '--entity', 'product', '--id', 'nope', '--nodes', seeds()])
    expect(run.code).toBe(1)
    expect(run.stderr).toBe('')
    expect(run.stdout).toMatch(
      new RegExp(
        `^no entry for product "nope" in namespace "${namespace}" \\(key \\{${namespace}:product:nope\\}, slot \\d+ on [\\d.:]+\\)\n`,
      ),
    )
    const entry = report(
      await tiercache(['get', '--namespace', namespace, '--entity', 'product', '--id', 'nope', '--nodes', seeds(), '--json']),
    )
    expect(entry).toMatchObject({ state: 'missing', ttlMs: null, sizeBytes: null, replicas: [] })
  })
})

async function masterOf(key: string): Promise<string | undefined> {
  const slot = Number(await file.redis.cluster('KEYSLOT', key))
  return (file.redis.slots as string[][])[slot]?.[0]
}

describe('tiercache get of a compressed entry (child process)', () => {
  it('shows the payload decompressed, with the codec and the bytes Redis stores', async () => {
    const namespace = uniqueNamespace()
    const { caches, close } = await fleet(1, { namespace, entities: { product: { ttl: '10m', compress: { over: 100, codec: 'gzip' } } } })
    cleanups.push(close)
    const value = { id: '7', lines: Array.from({ length: 50 }, (_, i) => `line ${i % 5}`) }
    await (caches[0] as TierCache).entity('product').set('7', value)
    const payload = JSON.stringify(value)
    const stored = (await file.redis.get(new KeyBuilder(namespace, 'product').valueKey('7'))) as string
    expect(stored.startsWith('tc1|g|')).toBe(true)
    const base64 = stored.slice(stored.lastIndexOf('|') + 1)

    const run = await tiercache(['get', '--namespace', namespace, '--entity', 'product', '--id', '7', '--nodes', seeds(), '--json'])
    expect(run.code).toBe(0)
    expect(report(run).envelope).toMatchObject({
      kind: 'value',
      payload,
      payloadBytes: payload.length,
      compressed: { codec: 'gzip', bytes: base64.length },
    })
    const text = await tiercache(['get', '--namespace', namespace, '--entity', 'product', '--id', '7', '--nodes', seeds()])
    expect(text.stdout).toContain(
      `  size         ${Buffer.byteLength(stored)} bytes in Redis (payload ${payload.length} bytes, stored as ${base64.length} bytes of gzip)\n`,
    )
  })
})
