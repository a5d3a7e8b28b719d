import type { Database } from './database.js'

/** A product as the API returns it: its row, its category and its current price. */
export interface Product {
  id: string
  categoryId: number
  name: string
  description: string
  priceCents: number
  currency: string
}

/** One line of a category listing. */
export interface ProductSummary {
  id: string
  name: string
  priceCents: number
}

/** A product's stock, read often during a flash sale. */
export interface Stock {
  productId: string
  available: number
}

interface ProductRow {
  id: number
  category_id: number
  name: string
  description: string
  cents: number
  currency: string
}

const PRODUCT_COLUMNS = 'p.id, p.category_id, p.name, p.description, pr.cents, pr.currency'

/**
 * The catalogue's data access, plain SQL and nothing cached: the functions a service already has
 * before it adds tiercache. `catalog.ts` wraps them.
 */
export interface Repository {
  getProduct(id: string): Promise<Product | null>
  /** The products of `ids` that exist, by id. */
  getProducts(ids: readonly string[]): Promise<Map<string, Product>>
  /** The 24 cheapest products of a category. */
  listByCategory(categoryId: string): Promise<ProductSummary[]>
  getStock(id: string): Promise<Stock | null>
  /** Sets a product's price; returns the updated product, or `null` when there is no such product. */
  updatePrice(id: string, cents: number): Promise<Product | null>
  /** Takes one unit of stock; returns the stock left, or `null` when sold out or unknown. */
  buy(id: string): Promise<Stock | null>
}

export function createRepository(db: Database): Repository {
  return {
    async getProduct(id) {
      const rows = await db.query<ProductRow>(
        `SELECT ${PRODUCT_COLUMNS} FROM products p JOIN prices pr ON pr.product_id = p.id WHERE p.id = $1`,
        [toInt(id)],
      )
      return rows[0] === undefined ? null : toProduct(rows[0])
    },
    async getProducts(ids) {
      const rows = await db.query<ProductRow>(
        `SELECT ${PRODUCT_COLUMNS} FROM products p JOIN prices pr ON pr.product_id = p.id WHERE p.id = ANY($1::int[])`,
        [ids.map(toInt)],
      )
      return new Map(rows.map((row) => [String(row.id), toProduct(row)]))
    },
    async listByCategory(categoryId) {
      const rows = await db.query<{ id: number; name: string; cents: number }>(
        `SELECT p.id, p.name, pr.cents FROM products p JOIN prices pr ON pr.product_id = p.id
         WHERE p.category_id = $1 ORDER BY pr.cents, p.id LIMIT 24`,
        [toInt(categoryId)],
      )
      return rows.map((row) => ({ id: String(row.id), name: row.name, priceCents: row.cents }))
    },
    async getStock(id) {
      const rows = await db.query<{ stock: number }>('SELECT stock FROM products WHERE id = $1', [toInt(id)])
      return rows[0] === undefined ? null : { productId: id, available: rows[0].stock }
    },
    async updatePrice(id, cents) {
      const rows = await db.query<ProductRow>(
        `WITH updated AS (UPDATE prices SET cents = $2, updated_at = now() WHERE product_id = $1 RETURNING product_id, cents, currency)
         SELECT p.id, p.category_id, p.name, p.description, u.cents, u.currency FROM updated u JOIN products p ON p.id = u.product_id`,
        [toInt(id), cents],
      )
      return rows[0] === undefined ? null : toProduct(rows[0])
    },
    async buy(id) {
      const rows = await db.query<{ stock: number }>('UPDATE products SET stock = stock - 1 WHERE id = $1 AND stock > 0 RETURNING stock', [
        toInt(id),
      ])
      return rows[0] === undefined ? null : { productId: id, available: rows[0].stock }
    },
  }
}

/** Ids are strings in the cache and the API, integers in the database; anything else is no product. */
function toInt(id: string): number {
  const n = /^[0-9]{1,9}$/.test(id) ? Number(id) : -1
  return n
}

function toProduct(row: ProductRow): Product {
  return {
    id: String(row.id),
    categoryId: row.category_id,
    name: row.name,
    description: row.description,
    priceCents: row.cents,
    currency: row.currency,
  }
}
