import { decodeEnvelope, type LoaderContext, TierCacheError } from '@tiercache/core'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { closeAll, memoryFleet } from './memory-fleet.js'

afterEach(closeAll)

/** The envelope L2 holds for `id` of `entity`, or `undefined`. */
function envelopeOf(fleet: ReturnType<typeof memoryFleet>, entity: string, id: string) {
  const raw = fleet.server.read(fleet.keys(entity).valueKey(id))
  return raw === null ? undefined : decodeEnvelope(raw)
}

/** The INVALID_CONFIG errors a member logged. */
function invalidConfigs(records: { obj: Record<string, unknown> }[]): TierCacheError[] {
  return records.map((r) => r.obj.err).filter((e): e is TierCacheError => e instanceof TierCacheError && e.code === 'INVALID_CONFIG')
}

describe('the loader context (in-memory L2)', () => {
  it("caches a value for the ttl its loader chose, instead of the entity's", async () => {
    const fleet = memoryFleet(1, { product: { ttl: '10m', grace: '1m' } })
    const products = fleet.at(0).entity<string>('product')
    const start = fleet.clock.now()
    const loader = vi.fn(async (_id: string, ctx: LoaderContext) => {
      ctx.set({ ttl: '5s' })
      return 'short-lived'
    })
    expect(await products.get('1', loader)).toBe('short-lived')
    const envelope = envelopeOf(fleet, 'product', '1')
    expect(envelope?.freshUntil).toBe(start + 5_000)
    expect(envelope?.staleUntil).toBe(start + 5_000 + 60_000)
    expect(fleet.server.ttlOf(fleet.keys('product').valueKey('1'))).toBe(65_000)
    fleet.clock.advance(4_999)
    expect(await products.get('1', loader)).toBe('short-lived')
    expect(loader).toHaveBeenCalledTimes(1)
  })

  it("caches an absent result (a 404) for the loader's ttl rather than negativeTtl", async () => {
    const fleet = memoryFleet(1, { product: { ttl: '10m', negativeTtl: '10m', l1: false } })
    const products = fleet.at(0).entity<string>('product')
    const start = fleet.clock.now()
    const loader = vi.fn(async (_id: string, ctx: LoaderContext) => {
      ctx.set({ ttl: '5s' })
      return null
    })
    expect(await products.get('missing', loader)).toBeNull()
    expect(envelopeOf(fleet, 'product', 'missing')).toMatchObject({ kind: 'n', freshUntil: start + 5_000 })
    fleet.clock.advance(5_000)
    expect(await products.get('missing', loader)).toBeNull()
    expect(loader).toHaveBeenCalledTimes(2)
  })

  it('shortens a ttl the loader chose by the entity jitter, never lengthens it', async () => {
    const fleet = memoryFleet(1, { product: { ttl: '10m', jitter: 0.2 } }, { random: () => 0.5 })
    const start = fleet.clock.now()
    await fleet
      .at(0)
      .entity<string>('product')
      .get('1', async (_id, ctx) => {
        ctx.set({ ttl: 10_000 })
        return 'v'
      })
    expect(envelopeOf(fleet, 'product', '1')?.freshUntil).toBe(start + 9_000)
  })

  it('serves a value stale for the grace its loader chose, while it refreshes', async () => {
    const fleet = memoryFleet(1, { product: { ttl: '10s' } })
    const products = fleet.at(0).entity<string>('product')
    let version = 0
    const loader = vi.fn(async (_id: string, ctx: LoaderContext) => {
      ctx.set({ grace: '1m' })
      return `v${++version}`
    })
    await products.get('1', loader)
    fleet.clock.advance(30_000)
    // Past its ttl, inside the loader's grace: the stale value now, the refreshed one next.
    expect(await products.get('1', loader)).toBe('v1')
    await vi.waitFor(() => expect(loader).toHaveBeenCalledTimes(2))
    await vi.waitFor(async () => expect(await products.get('1', loader)).toBe('v2'))
  })

  it('declines a value with skip(): returned to the caller, written to no tier, its lock released', async () => {
    const fleet = memoryFleet(1, { product: { ttl: '10m' } })
    const products = fleet.at(0).entity<string>('product')
    const keys = fleet.keys('product')
    const loader = vi.fn(async (_id: string, ctx: LoaderContext) => {
      ctx.skip()
      return 'error page'
    })
    expect(await products.get('1', loader)).toBe('error page')
    expect(fleet.server.read(keys.valueKey('1'))).toBeNull()
    expect(fleet.server.read(keys.lockKey('1'))).toBeNull()
    expect(await products.get('1', loader)).toBe('error page')
    expect(loader).toHaveBeenCalledTimes(2)
    expect(products.stats().uncacheableValues).toBe(0)
  })

  it('lets skip() win over set(), in either order', async () => {
    const fleet = memoryFleet(1, { product: { ttl: '10m' } })
    const products = fleet.at(0).entity<string>('product')
    await products.get('1', async (_id, ctx) => {
      ctx.skip()
      ctx.set({ ttl: '1h' })
      return 'a'
    })
    await products.get('2', async (_id, ctx) => {
      ctx.set({ ttl: '1h' })
      ctx.skip()
      return 'b'
    })
    expect(envelopeOf(fleet, 'product', '1')).toBeUndefined()
    expect(envelopeOf(fleet, 'product', '2')).toBeUndefined()
  })

  it('returns a value whose loader set a bad policy, caches it nowhere, and logs INVALID_CONFIG naming the field', async () => {
    const fleet = memoryFleet(1, { product: { ttl: '10m' } })
    const member = fleet.at(0)
    const products = member.entity<{ n: number }>('product')
    await products.get('good', async () => ({ n: 1 }))
    const bad = vi.fn(async (_id: string, ctx: LoaderContext) => {
      ctx.set({ ttl: 'soon' })
      return { n: 2 }
    })
    expect(await products.get('bad', bad)).toEqual({ n: 2 })
    expect(fleet.server.read(fleet.keys('product').valueKey('bad'))).toBeNull()
    expect(fleet.server.read(fleet.keys('product').lockKey('bad'))).toBeNull()
    const [error] = invalidConfigs(member.logger.records)
    expect(error?.message).toContain('entity "product" id "bad": ctx.set().ttl: expected a duration')
    expect(error?.message).toContain('got "soon"')
    expect(error).toMatchObject({ entity: 'product', id: 'bad' })
    expect(products.stats().uncacheableValues).toBe(1)
    // nothing else was lost or poisoned
    expect(await products.get('good', async () => ({ n: -1 }))).toEqual({ n: 1 })
    expect(await products.get('bad', bad)).toEqual({ n: 2 })
    expect(bad).toHaveBeenCalledTimes(2)
  })

  it.each([
    [{ ttl: -1 }, 'ctx.set().ttl: expected a duration'],
    [{ grace: '1 minute' }, 'ctx.set().grace: expected a duration'],
    [{ l1: true }, 'ctx.set().l1'],
    [{ tags: ['ok', ''] }, 'ctx.set().tags.1: expected a non-empty string'],
    [{ tags: 'one' }, 'ctx.set().tags'],
    [{ tll: '5s' }, 'ctx.set(): unknown option "tll"'],
  ])('rejects the policy %j with an INVALID_CONFIG that names it', async (policy, expected) => {
    const fleet = memoryFleet(1, { product: { ttl: '10m', tags: () => [] } })
    const member = fleet.at(0)
    expect(
      await member.entity<string>('product').get('1', async (_id, ctx) => {
        ctx.set(policy as never)
        return 'v'
      }),
    ).toBe('v')
    expect(invalidConfigs(member.logger.records)[0]?.message).toContain(expected)
    expect(envelopeOf(fleet, 'product', '1')).toBeUndefined()
  })

  it('keeps the stale entry when a refresh gives a bad policy (a bad policy never replaces a good value)', async () => {
    const fleet = memoryFleet(1, { product: { ttl: '10s', grace: '1m' } })
    const products = fleet.at(0).entity<string>('product')
    await products.get('1', async () => 'good')
    fleet.clock.advance(11_000)
    const refresh = vi.fn(async (_id: string, ctx: LoaderContext) => {
      ctx.set({ grace: 'forever' })
      return 'refreshed'
    })
    expect(await products.get('1', refresh)).toBe('good')
    await vi.waitFor(() => expect(refresh).toHaveBeenCalledTimes(1))
    await vi.waitFor(() => expect(products.stats().uncacheableValues).toBe(1))
    expect(envelopeOf(fleet, 'product', '1')?.payload).toBe('"good"')
  })

  it('tags a value with the tags its loader chose, even for an entity without a tags function, and invalidateTag reaches every instance', async () => {
    const fleet = memoryFleet(2, { product: { ttl: '10m', l1: { ttl: '10m' } } })
    const [a, b] = [fleet.at(0).entity<string>('product'), fleet.at(1).entity<string>('product')]
    const loader = vi.fn(async (_id: string, ctx: LoaderContext) => {
      ctx.set({ tags: ['category:7'] })
      return `v${loader.mock.calls.length}`
    })
    expect(await a.get('1', loader)).toBe('v1')
    expect(await b.get('1', loader)).toBe('v1')
    expect(envelopeOf(fleet, 'product', '1')?.tags).toEqual(['category:7'])
    await fleet.at(0).cache.invalidateTag('category:7')
    // an entry created in the same clock ms as the tag's stamp counts as invalidated
    fleet.clock.advance(1)
    // A's L1 drops it at once; B's through the bus.
    expect(await a.get('1', loader)).toBe('v2')
    await vi.waitFor(async () => expect(await b.get('1', async () => 'unexpected')).toBe('v2'))
  })

  it("replaces the entity's tags with the loader's", async () => {
    const fleet = memoryFleet(1, { product: { ttl: '10m', tags: () => ['entity-tag'] } })
    await fleet
      .at(0)
      .entity<string>('product')
      .get('1', async (_id, ctx) => {
        ctx.set({ tags: ['loader-tag'] })
        return 'v'
      })
    expect(envelopeOf(fleet, 'product', '1')?.tags).toEqual(['loader-tag'])
  })

  it('keeps no L1 copy of a value whose loader chose l1: false, and a shorter L1 ttl when it chose one', async () => {
    const fleet = memoryFleet(1, { product: { ttl: '10m', l1: { ttl: '1m' } } })
    const products = fleet.at(0).entity<string>('product')
    await products.get('none', async (_id, ctx) => {
      ctx.set({ l1: false })
      return 'v'
    })
    await products.get('short', async (_id, ctx) => {
      ctx.set({ l1: '1s' })
      return 'v'
    })
    await products.get('default', async () => 'v')
    const before = products.stats()
    await products.get('none', async () => 'unexpected')
    await products.get('short', async () => 'unexpected')
    await products.get('default', async () => 'unexpected')
    expect(products.stats().l1Hits - before.l1Hits).toBe(2)
    expect(products.stats().l2Hits - before.l2Hits).toBe(1)
    fleet.clock.advance(1_000)
    await products.get('short', async () => 'unexpected')
    expect(products.stats().l2Hits - before.l2Hits).toBe(2)
  })

  it('ignores (and logs) decisions made after the loader settled', async () => {
    const fleet = memoryFleet(1, { product: { ttl: '10m' } })
    const member = fleet.at(0)
    let kept: LoaderContext | undefined
    await member.entity<string>('product').get('1', async (_id, ctx) => {
      kept = ctx
      return 'v'
    })
    kept?.skip()
    kept?.set({ ttl: 1 })
    expect(envelopeOf(fleet, 'product', '1')?.payload).toBe('"v"')
    expect(member.logger.records.filter((r) => r.msg?.includes('after the loader settled'))).toHaveLength(2)
  })

  it('exposes the entity policy to the loader', async () => {
    const fleet = memoryFleet(1, { product: { ttl: '10m' } })
    let seen = 0
    await fleet
      .at(0)
      .entity<string>('product')
      .get('1', async (_id, ctx) => {
        seen = ctx.policy.ttlMs
        return 'v'
      })
    expect(seen).toBe(600_000)
  })
})

describe('the loader context of getMany (in-memory L2)', () => {
  it('applies per-id decisions: a ttl for one, skip for another, the defaults for the rest', async () => {
    const fleet = memoryFleet(1, { product: { ttl: '10m' } })
    const member = fleet.at(0)
    const start = fleet.clock.now()
    const values = await member.entity<string | null>('product').getMany(['a', 'b', 'c'], async (ids, ctx) => {
      ctx.set('a', { ttl: '5s' })
      ctx.skip('b')
      ctx.set('zz', { ttl: '1s' })
      return ids.map((id) => `v-${id}`)
    })
    expect(values).toEqual(['v-a', 'v-b', 'v-c'])
    expect(envelopeOf(fleet, 'product', 'a')?.freshUntil).toBe(start + 5_000)
    expect(envelopeOf(fleet, 'product', 'b')).toBeUndefined()
    expect(fleet.server.read(fleet.keys('product').lockKey('b'))).toBeNull()
    expect(envelopeOf(fleet, 'product', 'c')?.freshUntil).toBe(start + 600_000)
    const [error] = invalidConfigs(member.logger.records)
    expect(error?.message).toContain('ctx.set("zz"): not an id of this batch')
  })

  it('returns every value when one id has a bad policy, and caches only the others', async () => {
    const fleet = memoryFleet(1, { product: { ttl: '10m' } })
    const member = fleet.at(0)
    const products = member.entity<string>('product')
    const values = await products.getMany(['a', 'b'], async (ids, ctx) => {
      ctx.set('a', { ttl: '5 seconds' })
      return ids.map((id) => `v-${id}`)
    })
    expect(values).toEqual(['v-a', 'v-b'])
    expect(envelopeOf(fleet, 'product', 'a')).toBeUndefined()
    expect(envelopeOf(fleet, 'product', 'b')?.payload).toBe('"v-b"')
    expect(invalidConfigs(member.logger.records)[0]).toMatchObject({ entity: 'product', id: 'a' })
    expect(products.stats().uncacheableValues).toBe(1)
  })

  it("hands a refresh of one id the batch loader's context for that id", async () => {
    const fleet = memoryFleet(1, { product: { ttl: '10s', grace: '1m' } })
    const products = fleet.at(0).entity<string>('product')
    await products.getMany(['a'], async (ids) => ids.map(() => 'v1'))
    fleet.clock.advance(11_000)
    const start = fleet.clock.now()
    const refresh = vi.fn(async (ids: string[], ctx: { set(id: string, p: object): void }) => {
      for (const id of ids) ctx.set(id, { ttl: '2s' })
      return ids.map(() => 'v2')
    })
    expect(await products.getMany(['a'], refresh)).toEqual(['v1'])
    await vi.waitFor(() => expect(envelopeOf(fleet, 'product', 'a')?.payload).toBe('"v2"'))
    expect(envelopeOf(fleet, 'product', 'a')?.freshUntil).toBe(start + 2_000)
  })
})

describe('wrap with a policy hook (in-memory L2)', () => {
  it('decides from the arguments and the result: a missing record for 5 s, others for the entity ttl', async () => {
    const fleet = memoryFleet(1, { product: { ttl: '10m' } })
    const start = fleet.clock.now()
    const find = vi.fn(async (id: string) => (id === 'gone' ? null : { id }))
    const getProduct = fleet
      .at(0)
      .entity<{ id: string }>('product')
      .wrap(find, {
        policy: ([id], result, ctx) => {
          if (result === null) ctx.set({ ttl: '5s', tags: [`missing:${id}`] })
        },
      })
    expect(await getProduct('gone')).toBeNull()
    expect(await getProduct('42')).toEqual({ id: '42' })
    expect(envelopeOf(fleet, 'product', 'gone')).toMatchObject({ freshUntil: start + 5_000, tags: ['missing:gone'] })
    expect(envelopeOf(fleet, 'product', '42')?.freshUntil).toBe(start + 600_000)
  })

  it('returns the result but caches nothing when the hook throws', async () => {
    const fleet = memoryFleet(1, { product: { ttl: '10m' } })
    const member = fleet.at(0)
    const products = member.entity<{ id: string }>('product')
    const getProduct = products.wrap(async (id: string) => ({ id }), {
      policy: () => {
        throw new Error('hook bug')
      },
    })
    expect(await getProduct('1')).toEqual({ id: '1' })
    expect(envelopeOf(fleet, 'product', '1')).toBeUndefined()
    expect(products.stats().uncacheableValues).toBe(1)
    expect(member.logger.records.some((r) => (r.obj.err as Error | undefined)?.message === 'hook bug')).toBe(true)
  })

  it('rejects a policy that is not a function when wrapping', () => {
    const fleet = memoryFleet(1, { product: { ttl: '10m' } })
    expect(() =>
      fleet
        .at(0)
        .entity('product')
        .wrap(async (id: string) => id, { policy: 'short' as never }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringContaining('wrap options.policy') }))
  })
})
