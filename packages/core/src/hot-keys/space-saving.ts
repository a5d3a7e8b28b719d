/**
 * Space-Saving heavy hitters (Metwally, Agrawal, El Abbadi: "Efficient Computation of Frequent
 * and Top-k Elements in Data Streams", ICDT 2005), on the paper's stream-summary structure so
 * that every {@link SpaceSaving.add} is O(1).
 *
 * At most `capacity` keys are monitored. Each has a `count` and an `error`, with
 *
 *     count >= true count >= count - error
 *
 * and every key whose true count exceeds `total / capacity` is monitored. A new key arriving when
 * all counters are taken replaces a key of the minimum count `m`, inheriting `error = m` and
 * counting on from `m + 1`: the evicted key may have been seen up to `m` times, and so may the new
 * one (it could have been evicted earlier), which is why `m` is both its error and its floor.
 *
 * Stream summary: counters with equal counts share a bucket; buckets form a doubly linked list in
 * increasing count order. An increment moves a counter from its bucket to the next one, which is
 * the bucket of `count + 1` or is created right there, so no search is ever needed; the minimum is
 * the head of the list.
 *
 * Memory: `capacity` counter nodes and at most `capacity` buckets, plus one `Map` entry per
 * monitored key. Nodes and buckets are recycled (across evictions and {@link SpaceSaving.reset}),
 * so once warm, adding an already monitored key allocates nothing.
 */
export class SpaceSaving {
  private readonly capacity: number
  private readonly byKey = new Map<string, CounterNode>()
  // nodes[0 .. used) are live; the rest are kept from before the last reset for reuse.
  private readonly nodes: CounterNode[] = []
  private used = 0
  // Head of the bucket list: the bucket of the minimum count, or null when empty.
  private min: Bucket | null = null
  // Emptied buckets, linked through `next`, reused before allocating new ones.
  private spare: Bucket | null = null
  private added = 0

  /** `capacity`: the number of counters kept, a positive integer (validated by the config schema, not here). */
  constructor(capacity: number) {
    this.capacity = capacity
  }

  /** Items added since construction or the last {@link reset}: the stream length `N` of the bounds. */
  get total(): number {
    return this.added
  }

  /** Counters in use, never more than `capacity`. */
  get size(): number {
    return this.used
  }

  /**
   * Counts one occurrence of `key` at `now` (any clock, ms; it only dates when a key took its
   * counter, see {@link since}). Returns the key's lower bound (`count - error`): its occurrences
   * since it took the counter. O(1).
   */
  add(key: string, now = 0): number {
    this.added++
    const node = this.byKey.get(key)
    if (node !== undefined) {
      this.increment(node)
      return node.bucket.count - node.error
    }
    if (this.used < this.capacity) {
      this.insertFresh(key, now)
      return 1
    }
    // Full: take over a counter of the minimum count (the head bucket is never empty).
    const minBucket = this.min!
    const victim = minBucket.head!
    this.byKey.delete(victim.key)
    victim.key = key
    victim.error = minBucket.count
    victim.since = now
    this.byKey.set(key, victim)
    this.increment(victim)
    return 1
  }

  /** When (the `now` of its first {@link add}) `key` took the counter it holds, or `undefined` when it is not monitored. */
  since(key: string): number | undefined {
    return this.byKey.get(key)?.since
  }

  /** The estimate of `key`, or `undefined` when it is not monitored (its true count is then at most the minimum count). */
  estimate(key: string): { count: number; error: number } | undefined {
    const node = this.byKey.get(key)
    return node === undefined ? undefined : { count: node.bucket.count, error: node.error }
  }

  /** Calls `fn` for each monitored key, in no particular order. O(capacity), allocates nothing itself. */
  forEach(fn: (key: string, count: number, error: number) => void): void {
    for (let i = 0; i < this.used; i++) {
      const node = this.nodes[i]!
      fn(node.key, node.bucket.count, node.error)
    }
  }

  /** The monitored keys with their estimates, in no particular order. O(capacity). */
  entries(): Array<{ key: string; count: number; error: number }> {
    const out: Array<{ key: string; count: number; error: number }> = []
    this.forEach((key, count, error) => {
      out.push({ key, count, error })
    })
    return out
  }

  /** Forgets everything; node and bucket objects are kept for reuse. O(number of buckets). */
  reset(): void {
    this.byKey.clear()
    let bucket = this.min
    while (bucket !== null) {
      const next = bucket.next
      this.release(bucket)
      bucket = next
    }
    this.min = null
    this.used = 0
    this.added = 0
  }

  private insertFresh(key: string, now: number): void {
    let node = this.nodes[this.used]
    if (node === undefined) {
      node = new CounterNode()
      this.nodes.push(node)
    }
    this.used++
    node.key = key
    node.error = 0
    node.since = now
    this.byKey.set(key, node)
    let bucket = this.min
    if (bucket === null || bucket.count !== 1) {
      bucket = this.acquire(1)
      linkBucketAfter(bucket, null, this.min)
      this.min = bucket
    }
    attach(node, bucket)
  }

  private increment(node: CounterNode): void {
    const from = node.bucket
    const count = from.count + 1
    const next = from.next
    if (next !== null && next.count === count) {
      this.detach(node)
      attach(node, next)
    } else if (from.head === node && node.next === null) {
      // Alone in its bucket and no bucket of count + 1: the bucket itself can take the new count.
      from.count = count
    } else {
      detachFromBucket(node)
      const to = this.acquire(count)
      linkBucketAfter(to, from, next)
      attach(node, to)
    }
  }

  // Detaches `node` and drops its bucket if that leaves it empty.
  private detach(node: CounterNode): void {
    const bucket = node.bucket
    detachFromBucket(node)
    if (bucket.head !== null) return
    const prev = bucket.prev
    const next = bucket.next
    if (prev === null) this.min = next
    else prev.next = next
    if (next !== null) next.prev = prev
    this.release(bucket)
  }

  private acquire(count: number): Bucket {
    const bucket = this.spare
    if (bucket === null) return new Bucket(count)
    this.spare = bucket.next
    bucket.count = count
    bucket.prev = null
    bucket.next = null
    return bucket
  }

  private release(bucket: Bucket): void {
    bucket.head = null
    bucket.prev = null
    bucket.next = this.spare
    this.spare = bucket
  }
}

// One monitored key. Fields are all set in the constructor so every node has the same shape.
class CounterNode {
  key = ''
  error = 0
  since = 0
  bucket: Bucket = PLACEHOLDER_BUCKET
  prev: CounterNode | null = null
  next: CounterNode | null = null
}

// The keys sharing one count, in a doubly linked list so any of them leaves in O(1).
class Bucket {
  count: number
  head: CounterNode | null = null
  prev: Bucket | null = null
  next: Bucket | null = null

  constructor(count: number) {
    this.count = count
  }
}

// Lets `CounterNode.bucket` be non-null from the start; a node is always attached before it is read.
const PLACEHOLDER_BUCKET = new Bucket(0)

function attach(node: CounterNode, bucket: Bucket): void {
  node.bucket = bucket
  node.prev = null
  node.next = bucket.head
  if (bucket.head !== null) bucket.head.prev = node
  bucket.head = node
}

function detachFromBucket(node: CounterNode): void {
  const { prev, next } = node
  if (prev === null) node.bucket.head = next
  else prev.next = next
  if (next !== null) next.prev = prev
  node.prev = null
  node.next = null
}

function linkBucketAfter(bucket: Bucket, prev: Bucket | null, next: Bucket | null): void {
  bucket.prev = prev
  bucket.next = next
  if (prev !== null) prev.next = bucket
  if (next !== null) next.prev = bucket
}
