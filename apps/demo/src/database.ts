import { PGlite } from '@electric-sql/pglite'
import pg from 'pg'

/** Products in the seeded catalogue. */
export const PRODUCT_COUNT = 10_000
/** Categories in the seeded catalogue; product `n` is in category `n % CATEGORY_COUNT + 1`. */
export const CATEGORY_COUNT = 50

/**
 * The demo's PostgreSQL: PGlite (embedded, in-process, in memory) by default, or a real server
 * when a connection string is given. Every query goes through {@link Database.query}, which counts
 * it: the count is what the cache saves.
 */
export interface Database {
  /** `pglite` or `postgres`. */
  readonly kind: 'pglite' | 'postgres'
  /** Where the data lives, for the demo's banner. */
  readonly description: string
  /** Runs one statement with positional parameters (`$1`, `$2`, ...) and returns its rows. */
  query<Row>(sql: string, params?: readonly unknown[]): Promise<Row[]>
  /** Queries run since the database was opened. */
  readonly queries: number
  /** Drops the demo's schema (on a real server) and closes every connection. */
  close(): Promise<void>
}

/**
 * Opens the database and creates and seeds the catalogue: categories, products and prices
 * (10,000 products). On a real server the tables live in a schema of their own, named after this
 * process, so runs and tests sharing one database never see each other's rows; it is dropped on close.
 */
export async function openDatabase(databaseUrl?: string): Promise<Database> {
  const db = databaseUrl ? await openPostgres(databaseUrl) : await openPglite()
  await db.query(SCHEMA)
  await db.query(SEED)
  return db
}

async function openPglite(): Promise<Database> {
  const client = new PGlite()
  await client.waitReady
  let queries = 0
  return {
    kind: 'pglite',
    description: 'PostgreSQL (PGlite, embedded, in memory)',
    async query<Row>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
      queries++
      // A statement without parameters may hold several commands (the schema); exec runs them all.
      if (params.length === 0 && sql.includes(';')) {
        await client.exec(sql)
        return []
      }
      const result = await client.query<Row>(sql, params as unknown[])
      return result.rows
    },
    get queries() {
      return queries
    },
    close: () => client.close(),
  }
}

async function openPostgres(databaseUrl: string): Promise<Database> {
  const schema = `tiercache_demo_${process.pid}_${Date.now().toString(36)}`
  // Every connection of the pool works in the demo's own schema.
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 8, options: `-c search_path=${schema}` })
  await pool.query(`CREATE SCHEMA ${schema}`)
  let queries = 0
  const url = new URL(databaseUrl)
  return {
    kind: 'postgres',
    description: `PostgreSQL at ${url.host}${url.pathname} (schema ${schema})`,
    async query<Row>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
      queries++
      const result = await pool.query(sql, params as unknown[])
      return (Array.isArray(result) ? [] : result.rows) as Row[]
    },
    get queries() {
      return queries
    },
    async close() {
      try {
        await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      } finally {
        await pool.end()
      }
    },
  }
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS categories (
  id integer PRIMARY KEY,
  name text NOT NULL
);
CREATE TABLE IF NOT EXISTS products (
  id integer PRIMARY KEY,
  category_id integer NOT NULL REFERENCES categories (id),
  name text NOT NULL,
  description text NOT NULL,
  stock integer NOT NULL
);
CREATE INDEX IF NOT EXISTS products_category ON products (category_id);
CREATE TABLE IF NOT EXISTS prices (
  product_id integer PRIMARY KEY REFERENCES products (id),
  cents integer NOT NULL,
  currency text NOT NULL DEFAULT 'EUR',
  updated_at timestamptz NOT NULL DEFAULT now()
);
`

const SEED = `
INSERT INTO categories (id, name)
  SELECT c, 'Category ' || c FROM generate_series(1, ${CATEGORY_COUNT}) AS c
  ON CONFLICT DO NOTHING;
INSERT INTO products (id, category_id, name, description, stock)
  SELECT p, p % ${CATEGORY_COUNT} + 1, 'Product ' || p, 'A fine product, number ' || p || ' of the catalogue.', 100 + p % 900
  FROM generate_series(1, ${PRODUCT_COUNT}) AS p
  ON CONFLICT DO NOTHING;
INSERT INTO prices (product_id, cents)
  SELECT p, 500 + (p * 7919) % 20000 FROM generate_series(1, ${PRODUCT_COUNT}) AS p
  ON CONFLICT DO NOTHING;
`
