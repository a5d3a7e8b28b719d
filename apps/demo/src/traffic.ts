import { CATEGORY_COUNT, PRODUCT_COUNT } from './database.js'
import { type HttpAnswer, send } from './http-client.js'

/** What the traffic generator does, and for how long. */
export interface TrafficOptions {
  /** The two instances' base URLs; requests alternate between them at random. */
  urls: readonly string[]
  durationMs: number
  /** Requests in flight at once (closed loop). Default 16. */
  concurrency?: number
  /** The staleness bound promised after an update (ms): a read that starts later than this after the update resolved must see it. */
  boundMs: number
  /** Stops the run early (Ctrl-C). */
  signal?: AbortSignal
}

/** The flash-sale product: far down the Zipf tail, so it is cold until the sale starts. */
export const FLASH_PRODUCT_ID = '7777'
/** The category of the cold-start stampede: the background traffic never reads categories above 40. */
export const COLD_CATEGORY_ID = String(CATEGORY_COUNT - 5)
/** Concurrent requests of the stampede, split over both instances. */
export const STAMPEDE_REQUESTS = 200
/** Background category reads stay below this category. */
const WARM_CATEGORIES = 40
/** A price update every this many ms, alternating instances. */
const UPDATE_EVERY_MS = 100
/** A purchase of the flash product every this many ms during the sale. */
const BUY_EVERY_MS = 50
// Prices written by the generator start above every seeded price and only grow, so an older price is always smaller.
const FIRST_WRITTEN_PRICE = 1_000_000

/** The phases of a run, as fractions of its duration. */
export const PHASES = {
  stampedeAt: 0.3,
  flashSaleFrom: 0.45,
  flashSaleUntil: 0.85,
} as const

/** What the stale-read checks found. */
export interface ConsistencyReport {
  updates: number
  /** Reads of a product that had been updated, checked against its latest update. */
  checked: number
  /** Reads that returned the old price but started within the bound after the update resolved (allowed). */
  withinBound: number
  /** Reads that returned the old price although they started later than the bound after the update resolved. Must be 0. */
  pastBound: number
  /** The first few reads past the bound, for the report. */
  examples: string[]
}

/** What the stampede did. */
export interface StampedeReport {
  requests: number
  failed: number
  durationMs: number
}

/** Counts and latencies of one second of traffic, for the dashboard. */
export interface TrafficWindow {
  requests: number
  errors: number
  latenciesMs: number[]
}

/**
 * The demo's traffic: a closed loop of reads over the catalogue (Zipf: a few products take most
 * reads, like real traffic), a stream of price updates checked for stale reads, a cold-start
 * stampede on a category nobody has read, and a flash sale on one product from the tail.
 */
export class TrafficGenerator {
  readonly consistency: ConsistencyReport = { updates: 0, checked: 0, withinBound: 0, pastBound: 0, examples: [] }
  readonly stampede: StampedeReport = { requests: 0, failed: 0, durationMs: 0 }
  /** Reads of the flash product (its page, product and stock) during the sale. */
  flashReads = 0
  requests = 0
  errors = 0
  /** The first few failures, said in words (a status, or the error a request ended with). */
  readonly errorExamples: string[] = []
  phase = 'starting'
  /** Latency of every read (ms), for the summary's percentiles. */
  readonly latenciesMs: number[] = []
  private window: TrafficWindow = { requests: 0, errors: 0, latenciesMs: [] }
  private readonly expected = new Map<string, { cents: number; at: number }>()
  private nextPrice = FIRST_WRITTEN_PRICE
  private readonly zipf = zipfSampler(PRODUCT_COUNT, 1.1)
  private startedAt = 0

  constructor(private readonly options: TrafficOptions) {}

  /** The counts since the last call (one dashboard point). */
  takeWindow(): TrafficWindow {
    const window = this.window
    this.window = { requests: 0, errors: 0, latenciesMs: [] }
    return window
  }

  /** Milliseconds since the run started. */
  elapsedMs(): number {
    return this.startedAt === 0 ? 0 : performance.now() - this.startedAt
  }

  async run(): Promise<void> {
    const { durationMs, signal } = this.options
    this.startedAt = performance.now()
    const endAt = this.startedAt + durationMs
    const running = () => performance.now() < endAt && signal?.aborted !== true
    const at = (fraction: number) => this.startedAt + durationMs * fraction
    const stampedeDone = this.after(at(PHASES.stampedeAt), running, () => this.runStampede())
    const workers = Array.from({ length: this.options.concurrency ?? 16 }, () => this.readLoop(running, at))
    await Promise.all([...workers, this.updateLoop(running), this.buyLoop(running, at), stampedeDone])
    this.phase = 'done'
  }

  private async readLoop(running: () => boolean, at: (fraction: number) => number): Promise<void> {
    while (running()) {
      const now = performance.now()
      const flashSale = now >= at(PHASES.flashSaleFrom) && now < at(PHASES.flashSaleUntil)
      this.phase =
        now < at(PHASES.stampedeAt) ? 'warm-up' : now < at(PHASES.flashSaleFrom) ? 'steady' : flashSale ? 'flash sale' : 'after the sale'
      const base = this.pickInstance()
      const roll = Math.random()
      if (flashSale && roll < 0.5) {
        this.flashReads++
        const path = roll < 0.35 ? `/api/products/${FLASH_PRODUCT_ID}/stock` : `/api/products/${FLASH_PRODUCT_ID}`
        await this.read(base + path)
      } else if (roll < 0.78 || (flashSale && roll < 0.85)) {
        const id = this.zipfId()
        await this.read(`${base}/api/products/${id}`, id, 'json')
      } else if (roll < 0.9) {
        const id = this.zipfId()
        await this.read(`${base}/pages/products/${id}`, id, 'page')
      } else if (roll < 0.95) {
        await this.read(`${base}/api/categories/${1 + Math.floor(Math.random() * WARM_CATEGORIES)}/products`)
      } else {
        const ids = Array.from({ length: 10 }, () => this.zipfId())
        await this.read(`${base}/api/products?ids=${ids.join(',')}`)
      }
    }
  }

  /** A price update every 100 ms on one instance, then reads of that product on the other one, checked. */
  private async updateLoop(running: () => boolean): Promise<void> {
    let turn = 0
    while (running()) {
      const tick = sleep(UPDATE_EVERY_MS)
      const [writer, reader] = turn++ % 2 === 0 ? [0, 1] : [1, 0]
      // Updates go to products people read: the Zipf head, but none of the stampede's category: a
      // price change drops that category's listing (tag `category:<id>`), and one landing while the
      // stampede's 200 requests are in flight would make a second, legitimate load of it, which
      // the summary would count against single-flight.
      const id = this.updatableId()
      const cents = this.nextPrice++
      try {
        const answer = await send('PUT', `${this.options.urls[writer]}/api/products/${id}/price`, { cents })
        if (answer.status === 200) {
          const resolvedAt = performance.now()
          this.consistency.updates++
          const previous = this.expected.get(id)
          if (previous === undefined || previous.cents < cents) this.expected.set(id, { cents, at: resolvedAt })
          // At once (the other instance may still hold the old price: within the bound), and just past the bound.
          void this.read(`${this.options.urls[reader]}/api/products/${id}`, id, 'json')
          void sleep(this.options.boundMs + 5).then(() =>
            running() ? this.read(`${this.options.urls[reader]}/api/products/${id}`, id, 'json') : undefined,
          )
        } else {
          this.failed(`price update answered ${answer.status}`)
        }
      } catch (error) {
        this.failed(error)
      }
      await tick
    }
  }

  /** A product of the Zipf head (ids 1–200) outside the stampede's category (product `n` is in category `n % CATEGORY_COUNT + 1`). */
  private updatableId(): string {
    for (;;) {
      const n = 1 + Math.floor(Math.random() * 200)
      if (String((n % CATEGORY_COUNT) + 1) !== COLD_CATEGORY_ID) return String(n)
    }
  }

  /** Purchases of the flash product during the sale: each one invalidates its stock on every instance. */
  private async buyLoop(running: () => boolean, at: (fraction: number) => number): Promise<void> {
    await this.waitUntil(at(PHASES.flashSaleFrom), running)
    let turn = 0
    while (running() && performance.now() < at(PHASES.flashSaleUntil)) {
      const tick = sleep(BUY_EVERY_MS)
      try {
        const answer = await send('POST', `${this.options.urls[turn++ % 2]}/api/products/${FLASH_PRODUCT_ID}/buy`)
        if (answer.status >= 500) this.failed(`buy answered ${answer.status}`)
      } catch (error) {
        this.failed(error)
      }
      await tick
    }
  }

  /** 200 requests at once for a listing no instance has cached: the database should see one query. */
  private async runStampede(): Promise<void> {
    const started = performance.now()
    const results = await Promise.allSettled(
      Array.from({ length: STAMPEDE_REQUESTS }, (_, i) =>
        send('GET', `${this.options.urls[i % 2]}/api/categories/${COLD_CATEGORY_ID}/products`),
      ),
    )
    this.stampede.durationMs = performance.now() - started
    this.stampede.requests = results.length
    this.stampede.failed = results.filter((r) => r.status === 'rejected' || r.value.status !== 200).length
    this.requests += results.length
  }

  private async read(url: string, id?: string, kind?: 'json' | 'page'): Promise<void> {
    const startedAt = performance.now()
    let answer: HttpAnswer
    try {
      answer = await send('GET', url)
    } catch (error) {
      this.failed(error)
      return
    }
    const ms = performance.now() - startedAt
    this.requests++
    this.window.requests++
    this.latenciesMs.push(ms)
    this.window.latenciesMs.push(ms)
    if (answer.status >= 500) {
      this.failed(`GET ${url} answered ${answer.status}: ${answer.body.slice(0, 200)}`)
      return
    }
    if (id !== undefined && answer.status === 200)
      this.check(id, startedAt, kind === 'page' ? pagePrice(answer.body) : jsonPrice(answer.body), url)
  }

  /** Compares a price read with the latest update of that product. */
  private check(id: string, readStartedAt: number, cents: number | undefined, url: string): void {
    const expected = this.expected.get(id)
    if (expected === undefined || cents === undefined) return
    this.consistency.checked++
    if (cents >= expected.cents) return
    const lateMs = readStartedAt - expected.at
    if (lateMs <= this.options.boundMs) {
      this.consistency.withinBound++
    } else {
      this.consistency.pastBound++
      if (this.consistency.examples.length < 5) {
        this.consistency.examples.push(`${url}: price ${cents}, updated to ${expected.cents} ${Math.round(lateMs)} ms before the read`)
      }
    }
  }

  private failed(why: unknown): void {
    if (this.errorExamples.length < 5) this.errorExamples.push(why instanceof Error ? why.message : String(why))
    this.errors++
    this.window.errors++
  }

  private pickInstance(): string {
    return this.options.urls[Math.random() < 0.5 ? 0 : 1] as string
  }

  private zipfId(): string {
    // Skip the flash product so it stays cold until the sale.
    const id = this.zipf()
    return id === Number(FLASH_PRODUCT_ID) ? '1' : String(id)
  }

  private async after(time: number, running: () => boolean, run: () => Promise<void>): Promise<void> {
    await this.waitUntil(time, running)
    if (running()) await run()
  }

  private async waitUntil(time: number, running: () => boolean): Promise<void> {
    while (running() && performance.now() < time) await sleep(Math.min(100, time - performance.now()))
  }
}

function jsonPrice(body: string): number | undefined {
  try {
    const cents = (JSON.parse(body) as { priceCents?: unknown }).priceCents
    return typeof cents === 'number' ? cents : undefined
  } catch {
    return undefined
  }
}

function pagePrice(body: string): number | undefined {
  const match = /data-price="(\d+)"/.exec(body)
  return match ? Number(match[1]) : undefined
}

/** Draws ids 1..n with probability proportional to 1 / rank^s (inverse CDF, binary search). */
export function zipfSampler(n: number, s: number): () => number {
  const cdf = new Float64Array(n)
  let total = 0
  for (let i = 0; i < n; i++) {
    total += 1 / (i + 1) ** s
    cdf[i] = total
  }
  return () => {
    const u = Math.random() * total
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if ((cdf[mid] as number) < u) lo = mid + 1
      else hi = mid
    }
    return lo + 1
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))
}
