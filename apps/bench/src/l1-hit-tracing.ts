/**
 * The L1 hit with and without a `tiercache:get` tracing channel subscriber (issue 13):
 * `pnpm --filter @tiercache/bench l1-tracing` (builds first). Prints ns per `entity.get` on 1,000
 * warm keys, best of 7 rounds of 1 million gets, for: a bare `lru-cache` get (the floor), tiercache
 * with no subscriber, tiercache while a subscriber listens to `tiercache:get`, and tiercache again
 * once it unsubscribed. Rounds alternate so the machine's noise spreads over all of them.
 *
 * `TIERCACHE_BASELINE_CORE=/path/to/another/build/dist/index.js` adds that build of
 * @tiercache/core (e.g. main before the tracing channels) to the same rounds, for a before/after.
 */
import { tracingChannel } from 'node:diagnostics_channel'
import { createCache, TRACING_CHANNELS } from '@tiercache/core'
import { LRUCache } from 'lru-cache'

const KEYS = 1_000
const GETS = 1_000_000
const ROUNDS = 7
const ids = Array.from({ length: KEYS }, (_, i) => `p${i}`)

const loader = async (id: string) => ({ id })
async function warmCache(create: typeof createCache) {
  const cache = create({ namespace: 'bench', entities: { product: { ttl: '1h' } } })
  const products = cache.entity<{ id: string }>('product')
  for (const id of ids) await products.get(id, loader)
  return { cache, products }
}
const { cache, products } = await warmCache(createCache)
const baselinePath = process.env.TIERCACHE_BASELINE_CORE
const baseline =
  baselinePath === undefined
    ? undefined
    : await warmCache(((await import(baselinePath)) as { createCache: typeof createCache }).createCache)
const lru = new LRUCache<string, { id: string }>({ max: 10_000 })
for (const id of ids) lru.set(id, { id })

async function tiercacheRound(entity = products): Promise<number> {
  const started = process.hrtime.bigint()
  for (let i = 0; i < GETS; i++) await entity.get(ids[i % KEYS] as string, loader)
  return Number(process.hrtime.bigint() - started) / GETS
}

async function lruRound(): Promise<number> {
  const started = process.hrtime.bigint()
  // Awaited like the cache's get, so both pay the same microtask turn.
  for (let i = 0; i < GETS; i++) await lru.get(ids[i % KEYS] as string)
  return Number(process.hrtime.bigint() - started) / GETS
}

const channel = tracingChannel(TRACING_CHANNELS.get)
let ended = 0
const subscriber = {
  start() {},
  end() {},
  asyncStart() {},
  asyncEnd() {
    ended++
  },
  error() {},
}
const best: Record<string, number> = {}
const keep = (name: string, ns: number) => {
  best[name] = Math.min(best[name] ?? Number.POSITIVE_INFINITY, ns)
}
for (let round = 0; round < ROUNDS; round++) {
  keep('lru-cache get', await lruRound())
  if (baseline !== undefined) keep('baseline build, no subscriber', await tiercacheRound(baseline.products))
  keep('tiercache, no subscriber', await tiercacheRound())
  channel.subscribe(subscriber)
  keep('tiercache, tiercache:get subscribed', await tiercacheRound())
  channel.unsubscribe(subscriber)
  keep('tiercache, unsubscribed again', await tiercacheRound())
}
await cache.close()
await baseline?.cache.close()
console.log(`Node ${process.version}, best of ${ROUNDS} rounds of ${GETS} L1 hits (ns per get):`)
for (const [name, ns] of Object.entries(best)) console.log(`  ${name.padEnd(40)} ${ns.toFixed(1)}`)
console.log(`  (subscriber saw ${ended} calls end)`)
