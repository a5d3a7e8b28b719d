/** The value every workload caches: a product of a catalogue, about 210 bytes as JSON. */
export interface Product {
  id: string
  sku: string
  name: string
  price: number
  currency: string
  stock: number
  categoryId: number
  tags: string[]
  version: number
  updatedAt: string
}

/** The product `id` at `version`; its JSON is 205 to 225 bytes for the ids the workloads use. */
export function makeProduct(id: string, version = 1): Product {
  const n = Number.parseInt(id.replace(/\D/g, ''), 10) || 0
  return {
    id,
    sku: `SKU-${String(n).padStart(8, '0')}`,
    name: `Stainless steel water bottle ${n % 1000}`,
    price: 1999 + (n % 500),
    currency: 'EUR',
    stock: n % 97,
    categoryId: n % 40,
    tags: ['outdoor', 'kitchen'],
    version,
    updatedAt: new Date(Date.UTC(2025, 0, 1) + version * 1000).toISOString(),
  }
}

/** Ids `p<start>` .. `p<start + count - 1>`. */
export function productIds(count: number, start = 0): string[] {
  return Array.from({ length: count }, (_, i) => `p${start + i}`)
}

/** Runs `work` over `items` with at most `width` in flight: warms thousands of keys without a connection storm. */
export async function forEachLimited<T>(items: readonly T[], width: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++] as T)
  }
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker))
}
