import { spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'

const script = fileURLToPath(new URL('../scripts/check-layers.mjs', import.meta.url))
const src = fileURLToPath(new URL('../src', import.meta.url))

function check(dir?: string): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, dir === undefined ? [script] : [script, dir], { encoding: 'utf8' })
  return { status: run.status, output: run.stdout + run.stderr }
}

describe('the layer check of packages/core/src', () => {
  let copy: string | undefined
  afterEach(() => {
    if (copy !== undefined) rmSync(copy, { recursive: true, force: true })
    copy = undefined
  })

  it('passes on the source tree as it is', () => {
    const result = check()
    expect(result.output).toContain('layers: no violation')
    expect(result.status).toBe(0)
  })

  it('fails when a lower layer imports an entity step', () => {
    copy = mkdtempSync(join(tmpdir(), 'layers-'))
    cpSync(src, copy, { recursive: true })
    writeFileSync(
      join(copy, 'l2', 'upward.ts'),
      "import { readThrough } from '../entity/read-through.js'\nexport const step = readThrough\n",
    )
    const result = check(copy)
    expect(result.status).toBe(1)
    expect(result.output).toContain('l2/upward.ts → entity/read-through.ts: layer "l2" may not import from layer "entity" above it')
  })

  it('fails when the config imports a type from above it that is not the declared exception', () => {
    copy = mkdtempSync(join(tmpdir(), 'layers-'))
    cpSync(src, copy, { recursive: true })
    writeFileSync(
      join(copy, 'config', 'upward.ts'),
      "import type { GuardedStore } from '../l2/guarded-store.js'\nexport type Store = GuardedStore\n",
    )
    const result = check(copy)
    expect(result.status).toBe(1)
    expect(result.output).toContain('config/upward.ts → l2/guarded-store.ts')
  })

  it('fails on a folder that has no layer', () => {
    copy = mkdtempSync(join(tmpdir(), 'layers-'))
    cpSync(src, copy, { recursive: true })
    cpSync(join(copy, 'util'), join(copy, 'misc'), { recursive: true })
    const result = check(copy)
    expect(result.status).toBe(1)
    expect(result.output).toContain('folder "misc" has no layer')
  })
})
