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

  /** Checks a copy of the source tree after `change` edits it. */
  function checkChanged(change: (dir: string) => void): { status: number | null; output: string } {
    copy = mkdtempSync(join(tmpdir(), 'layers-'))
    cpSync(src, copy, { recursive: true })
    change(copy)
    return check(copy)
  }

  it('passes on the source tree as it is', () => {
    const result = check()
    expect(result.output).toContain('layers: no violation')
    expect(result.status).toBe(0)
  })

  it.each([
    {
      case: 'a lower layer imports an entity step',
      file: 'l2/upward.ts',
      text: "import { readThrough } from '../entity/read-through.js'\nexport const step = readThrough\n",
      says: 'l2/upward.ts → entity/read-through.ts: layer "l2" may not import from layer "entity" above it',
    },
    {
      case: 'the config imports a type from above it that is not the declared exception',
      file: 'config/upward.ts',
      text: "import type { GuardedStore } from '../l2/guarded-store.js'\nexport type Store = GuardedStore\n",
      says: 'config/upward.ts → l2/guarded-store.ts: layer "config" may not import from layer "l2" above it',
    },
  ])('fails when $case', ({ file, text, says }) => {
    const result = checkChanged((dir) => writeFileSync(join(dir, file), text))
    expect(result.status).toBe(1)
    expect(result.output).toContain(says)
  })

  it('fails on a folder that has no layer', () => {
    const result = checkChanged((dir) => cpSync(join(dir, 'util'), join(dir, 'misc'), { recursive: true }))
    expect(result.status).toBe(1)
    expect(result.output).toContain('folder "misc" has no layer')
  })
})
