import { contender } from '../adapters/index.js'
import { collectGarbage } from '../harness.js'
import { makeProduct, type Product } from '../product.js'
import { contextFor, openAdapter, sleep, TTL_MS } from './common.js'
import type { MemoryWorkerConfig, MemoryWorkerReport } from './memory-protocol.js'

// A child process forked by memory.ts (with --expose-gc): one contender, a fresh heap, N values in its memory tier.

const WORDS = ['stainless', 'steel', 'bottle', 'keeps', 'drinks', 'cold', 'for', 'hours', 'and', 'hot', 'too', 'outdoor']

/** A product of about `bytes` bytes as JSON, with a description of its own (a flat string per value). */
export function largeProduct(id: string, bytes: number): Product & { description: string } {
  const base = makeProduct(id)
  const room = bytes - Buffer.byteLength(JSON.stringify(base)) - 18
  const n = Number.parseInt(id.replace(/\D/g, ''), 10) || 0
  const words: string[] = []
  let length = 0
  for (let i = 0; length < room; i++) {
    const word = WORDS[(n + i) % WORDS.length] as string
    words.push(word)
    length += word.length + 1
  }
  return { ...base, description: words.join(' ').slice(0, Math.max(0, room)) }
}

function usage(): { heap: number; external: number } {
  collectGarbage()
  collectGarbage()
  const m = process.memoryUsage()
  return { heap: m.heapUsed, external: m.external }
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '') as MemoryWorkerConfig
  const adapter = await openAdapter(contender(config.contender), contextFor('l1', config.namespace, config.seeds))
  // Connections and code paths warm before the baseline.
  for (let i = 0; i < 64; i++) await adapter.getOrSet(`warm${i}`, () => largeProduct(`w${i}`, config.valueBytes), TTL_MS)
  await sleep(200)
  const before = usage()
  for (let i = 0; i < config.entries; i++) {
    const id = `m${i}`
    await adapter.getOrSet(id, () => largeProduct(id, config.valueBytes), TTL_MS)
  }
  // Writes some libraries finish in the background settle before measuring.
  await sleep(500)
  const after = usage()
  // Every value must still be in memory, or the figure would be for fewer entries.
  let reloaded = 0
  for (let i = 0; i < config.entries; i++) {
    const id = `m${i}`
    await adapter.getOrSet(
      id,
      () => {
        reloaded++
        return largeProduct(id, config.valueBytes)
      },
      TTL_MS,
    )
  }
  const report: MemoryWorkerReport = {
    heapBytes: after.heap - before.heap,
    externalBytes: after.external - before.external,
    valueJsonBytes: Buffer.byteLength(JSON.stringify(largeProduct('m1', config.valueBytes))),
    reloaded,
  }
  process.send?.(report)
  await adapter.teardown()
  process.exit(0)
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
