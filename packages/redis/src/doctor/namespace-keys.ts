import { type NodeCaller, SCAN_BATCH } from '@tiercache/redis-common'

/** The namespace's keys on one master. */
export interface MasterKeyCount {
  address: string
  /** Keys on the master (`DBSIZE`). */
  dbsize: number
  /** Keys the walk looked at. */
  examined: number
  /** Of those, keys of the namespace. */
  matched: number
  /** The walk saw every key (the count is exact), or stopped at the sample size (an estimate). */
  exact: boolean
}

/** How many keys a namespace holds, summed over the masters. */
export interface NamespaceKeyCount {
  namespace: string
  /** `exact` when every master was walked to the end, else `sampled`. */
  method: 'exact' | 'sampled'
  /** The count (exact), or the estimate: per master, `matched / examined × DBSIZE`, summed. */
  keys: number
  masters: MasterKeyCount[]
}

/**
 * Counts a namespace's keys: on each master, `SCAN` without `MATCH` (so the share of matching keys
 * among those examined is known) for at most `sample` keys. A master walked to the end gives an
 * exact count; otherwise its count is the share seen in the sample times its `DBSIZE` — SCAN visits
 * the hash table in bucket order, which is unrelated to key names, so the sample is a fair one
 * for key counts (not for sizes).
 */
export async function countNamespaceKeys(
  masters: readonly NodeCaller[],
  namespace: string,
  prefixes: readonly string[],
  sample: number,
): Promise<NamespaceKeyCount> {
  const counts = await Promise.all(
    masters.map(async (master): Promise<MasterKeyCount> => {
      const dbsize = Number(await master.call('DBSIZE'))
      let cursor = '0'
      let examined = 0
      let matched = 0
      do {
        const [next, keys] = (await master.call('SCAN', cursor, 'COUNT', SCAN_BATCH)) as [string, string[]]
        cursor = next
        examined += keys.length
        for (const key of keys) if (prefixes.some((prefix) => key.startsWith(prefix))) matched++
      } while (cursor !== '0' && examined < sample)
      return { address: master.address, dbsize, examined, matched, exact: cursor === '0' }
    }),
  )
  const keys = counts.reduce(
    (sum, count) =>
      sum + (count.exact ? count.matched : count.examined === 0 ? 0 : Math.round((count.matched / count.examined) * count.dbsize)),
    0,
  )
  return { namespace, method: counts.every((count) => count.exact) ? 'exact' : 'sampled', keys, masters: counts }
}
