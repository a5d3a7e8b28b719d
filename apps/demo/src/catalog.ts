import type { CacheOptions, TierCache } from '@tiercache/core'
import { httpResponseTags } from '@tiercache/core/http'
import type { Product, ProductSummary, Repository, Stock } from './repository.js'

/**
 * The demo's entity policies: what a catalogue service would configure.
 *
 * - `product`: read by id all day long. Fresh for 5 minutes; each instance keeps a copy in L1 for
 *   5 s (the bound on staleness if the invalidation bus is down); served stale for a minute more
 *   while a refresh runs; unknown ids cached as absent for 30 s. Hot keys at 200 reads/s.
 * - `productList`: a category's listing, tagged `category:<id>` so a price change drops it.
 * - `stock`: shown at most a second old (TTL 1 s), so no L1 at all, and a hot key's reads are
 *   spread over every master by replicas (no L1 promotion either).
 * - `productPage`: whole HTTP responses of `/pages/products/:id`, tagged by product.
 */
export const DEMO_ENTITIES = {
  product: {
    ttl: '5m',
    l1: { ttl: '5s', maxEntries: 5_000 },
    grace: '1m',
    jitter: 0.1,
    negativeTtl: '30s',
    hot: { threshold: { rate: 200 } },
  },
  productList: { ttl: '1m', l1: { ttl: '5s' }, tags: (categoryId: string) => [`category:${categoryId}`] },
  stock: { ttl: '1s', l1: false, hot: { l1Ttl: 0, threshold: { rate: 100 } } },
  productPage: { ttl: '1m', l1: { ttl: '5s' }, tags: httpResponseTags },
} satisfies CacheOptions['entities']

/** The L1 TTL of `product` and `productList` (ms): how stale an instance may be while its bus is down. */
export const DEMO_L1_TTL_MS = 5_000

/** The repository's functions with tiercache in front: reads through the cache, writes invalidating it. */
export interface Catalog {
  getProduct(id: string): Promise<Product | null>
  getProducts(ids: readonly string[]): Promise<(Product | null)[]>
  listByCategory(categoryId: string): Promise<ProductSummary[]>
  getStock(id: string): Promise<Stock | null>
  updatePrice(id: string, cents: number): Promise<Product | null>
  buy(id: string): Promise<Stock | null>
}

/**
 * Wraps a repository the way the docs tell users to: `wrap` for reads by id, `getMany` for
 * batches (one loader call for every miss), `invalidating` for writes, with the tags the write
 * touches. The wrapped functions keep the repository's signatures and types.
 */
export function createCatalog(cache: TierCache, repository: Repository): Catalog {
  const products = cache.entity<Product>('product')
  const lists = cache.entity<ProductSummary[]>('productList')
  const stock = cache.entity<Stock>('stock')
  return {
    getProduct: products.wrap(repository.getProduct),
    getProducts: (ids) => products.getMany(ids, (missing) => repository.getProducts(missing)),
    listByCategory: lists.wrap(repository.listByCategory),
    getStock: stock.wrap(repository.getStock),
    updatePrice: products.invalidating(repository.updatePrice, {
      keys: ([id]) => id,
      // The listing of its category and the product's cached pages show the price too.
      tags: ([id], product) => (product === null ? [] : [`category:${product.categoryId}`, `product:${id}`]),
    }),
    // The purchase itself is checked by the database (stock > 0); the stock shown may be a second old (its TTL),
    // which keeps a flash sale's reads on the cache rather than invalidating them at every purchase.
    buy: repository.buy,
  }
}
