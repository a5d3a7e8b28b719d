import 'reflect-metadata'
import { request as httpRequest } from 'node:http'
import {
  Body,
  Controller,
  Get,
  Header,
  HttpCode,
  type INestApplication,
  Inject,
  Injectable,
  Module,
  NotFoundException,
  Param,
  Post,
} from '@nestjs/common'
import { type CacheOptions, type EntityHandle, isTierCacheError, type TierCache } from '@tiercache/core'
import { httpResponseTags } from '@tiercache/core/http'
import { redisClusterStore } from '@tiercache/redis'
import { testCluster } from '@tiercache/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { PUBLIC_HOST, send, testCache, uniqueNamespace } from '../../express/test/http-harness.js'
import { Cached, InjectCache, InjectEntity, Invalidates, TIERCACHE, TierCacheModule } from '../src/index.js'
import { type Platform, startNest, urlOf } from './nest-driver.js'

const ENTITIES: CacheOptions['entities'] = { page: { ttl: '1m', tags: httpResponseTags }, product: { ttl: '1m' } }

const apps: INestApplication[] = []
const caches: TierCache[] = []

afterEach(async () => {
  for (const app of apps.splice(0)) await app.close()
  for (const cache of caches.splice(0)) await cache.close()
})

async function start(platform: Platform, ...args: Parameters<typeof startNest> extends [unknown, ...infer Rest] ? Rest : never) {
  const app = await startNest(platform, ...args)
  apps.push(app)
  return { app, url: urlOf(app) }
}

async function closed(cache: TierCache): Promise<boolean> {
  return cache.invalidateTag('probe').then(
    () => false,
    (error: unknown) => isTierCacheError(error, 'CACHE_CLOSED'),
  )
}

// A product catalogue as a Nest user writes it: a service with an injected entity handle, a
// controller with a cached read and a write that invalidates it.
const db = new Map<string, { id: string; name: string }>()

@Injectable()
class ProductService {
  constructor(@InjectEntity('product') readonly products: EntityHandle<{ id: string; name: string }>) {}

  find(id: string) {
    return this.products.get(id, (key) => db.get(key) ?? null)
  }
}

@Controller('products')
class ProductController {
  constructor(@Inject(ProductService) private readonly service: ProductService) {}

  @Get(':id')
  @Cached({ entity: 'page', statuses: [200, 404], tags: (req) => [`product:${req.params.id}`] })
  @Header('cache-control', 'public, max-age=5')
  async read(@Param('id') id: string) {
    const product = await this.service.find(id)
    if (product === null) throw new NotFoundException(`no product ${id}`)
    return product
  }

  @Post()
  @HttpCode(201)
  @Invalidates((_req, _res, result) => {
    const id = (result as { id: string }).id
    return { entities: { product: [id] }, tags: [`product:${id}`] }
  })
  create(@Body() body: { id: string; name: string }) {
    db.set(body.id, body)
    return body
  }
}

@Module({ imports: [TierCacheModule.forFeature(['product'])], providers: [ProductService], controllers: [ProductController] })
class ProductModule {}

describe.each(['express', 'fastify'] as const)('nest on %s: the module', (platform) => {
  it('serves a catalogue: injected entity handle, cached 200 and 404 with @Header, @Invalidates with the handler’s result', async () => {
    db.clear()
    db.set('1', { id: '1', name: 'apple' })
    const cache = await testCache(ENTITIES)
    caches.push(cache)
    const { url: featureUrl } = await startFeature(platform, cache)
    const first = await send(featureUrl, '/products/1')
    expect(first.status).toBe(200)
    expect(JSON.parse(first.body)).toEqual({ id: '1', name: 'apple' })
    expect(first.headers['x-cache']).toBe('MISS')
    const hit = await send(featureUrl, '/products/1')
    expect(hit.headers['x-cache']).toBe('HIT')
    expect(hit.headers['cache-control']).toBe('public, max-age=5')
    expect(hit.headers['content-type']).toMatch(/^application\/json/)
    const missing = await send(featureUrl, '/products/2')
    expect(missing.status).toBe(404)
    expect((await send(featureUrl, '/products/2')).headers['x-cache']).toBe('HIT')
    const created = await sendJson(featureUrl, '/products', { id: '2', name: 'pear' })
    expect(created.status).toBe(201)
    const now = await send(featureUrl, '/products/2')
    expect(now.status).toBe(200)
    expect(JSON.parse(now.body)).toEqual({ id: '2', name: 'pear' })
    expect(now.headers['x-cache']).toBe('MISS')
  })

  it('closes a cache it made from options on shutdown, and leaves a given cache open unless told to close it', async () => {
    const namespace = uniqueNamespace()
    let made: TierCache | undefined
    @Controller()
    class Probe {
      constructor(@InjectCache() cache: TierCache) {
        made = cache
      }
    }
    const options = { namespace, l2: redisClusterStore({ nodes: testCluster().seeds() }), entities: ENTITIES }
    const owned = await startNest(platform, { cache: options }, [Probe])
    expect(made).toBeDefined()
    expect(owned.get(TIERCACHE)).toBe(made)
    expect(await closed(made as TierCache)).toBe(false)
    await owned.close()
    expect(await closed(made as TierCache)).toBe(true)

    const given = await testCache(ENTITIES)
    caches.push(given)
    const keeper = await startNest(platform, { cache: given }, [])
    await keeper.close()
    expect(await closed(given)).toBe(false)
    const handedOver = await startNest(platform, { cache: given, closeOnShutdown: true }, [])
    await handedOver.close()
    expect(await closed(given)).toBe(true)
  })

  it('forRootAsync: makes the options with injected providers from its imports', async () => {
    const cache = await testCache(ENTITIES)
    caches.push(cache)
    @Injectable()
    class Settings {
      readonly cache = cache
    }
    @Module({ providers: [Settings], exports: [Settings] })
    class SettingsModule {}
    @Controller()
    class Page {
      @Get('/async')
      @Cached()
      read() {
        return 'made by forRootAsync'
      }
    }
    const module = TierCacheModule.forRootAsync({
      imports: [SettingsModule],
      inject: [Settings],
      useFactory: (settings: Settings) => ({ cache: settings.cache, defaults: { entity: 'page' } }),
    })
    const { url } = await start(platform, module, [Page])
    expect((await send(url, '/async')).body).toBe('made by forRootAsync')
    expect((await send(url, '/async')).headers['x-cache']).toBe('HIT')
  })

  it('fails the start with UNKNOWN_ENTITY for an entity the cache does not have, in @Cached() or forFeature()', async () => {
    const cache = await testCache(ENTITIES)
    caches.push(cache)
    @Controller()
    class Wrong {
      @Get('/x')
      @Cached({ entity: 'nope' })
      read() {
        return 'x'
      }
    }
    const error = await startNest(platform, { cache }, [Wrong]).catch((e: unknown) => e)
    expect(isTierCacheError(error, 'UNKNOWN_ENTITY')).toBe(true)
    @Module({ imports: [TierCacheModule.forFeature(['nope'])] })
    class Feature {}
    const viaFeature = await startNest(platform, TierCacheModule.forRootAsync({ useFactory: () => ({ cache }) }), [], [Feature]).catch(
      (e: unknown) => e,
    )
    expect(isTierCacheError(viaFeature, 'UNKNOWN_ENTITY')).toBe(true)
  })

  async function startFeature(on: Platform, cache: TierCache) {
    const app = await startNest(on, { cache }, [], [ProductModule])
    apps.push(app)
    return { url: urlOf(app) }
  }
})

describe('nest: options', () => {
  it.each([
    [undefined, 'expected an object with a cache'],
    [{}, 'options.cache'],
    [{ cache: {}, extra: 1 }, 'unknown option "extra"'],
    [{ cache: { namespace: 'x', entities: {} }, closeOnShutdown: 'yes' }, 'closeOnShutdown'],
    [{ cache: { namespace: 'x', entities: { page: { ttl: '1m' } } }, defaults: { statuses: [500] } }, 'defaults.statuses'],
    [{ cache: { namespace: 'bad namespace!', entities: {} } }, 'namespace'],
  ])('forRoot(%j) throws INVALID_CONFIG naming %s', (options, path) => {
    let error: unknown
    try {
      TierCacheModule.forRoot(options as never)
    } catch (e) {
      error = e
    }
    expect(isTierCacheError(error, 'INVALID_CONFIG')).toBe(true)
    expect((error as Error).message).toContain(path)
  })

  it('rejects bad decorator options when the class is defined', () => {
    expect(() => Cached({ entity: 'page', varyHeaders: ['a b'] })).toThrow(/INVALID_CONFIG: .*@Cached\(\) options\.varyHeaders\.0/)
    expect(() => Invalidates('product' as never)).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }))
  })
})

function sendJson(base: string, target: string, body: unknown): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base)
  const payload = JSON.stringify(body)
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: hostname,
        port,
        path: target,
        method: 'POST',
        agent: false,
        headers: { host: PUBLIC_HOST, 'content-type': 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }))
      },
    )
    req.on('error', reject)
    req.end(payload)
  })
}
