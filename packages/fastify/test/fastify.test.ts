import { Readable } from 'node:stream'
import type { TierCache } from '@tiercache/core'
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'
import { describeHttpCacheCases } from '../../express/test/http-cases.js'
import { describeHttpFuzzCases } from '../../express/test/http-fuzz-cases.js'
import type { AppSpec, HttpDriver, RunningApp, TestReply } from '../../express/test/http-harness.js'
import { setCachePolicy, tiercache } from '../src/index.js'

function write(reply: FastifyReply, answer: TestReply): FastifyReply | unknown {
  if (answer.policy !== undefined) setCachePolicy(reply, answer.policy)
  reply.code(answer.status ?? 200)
  for (const [name, value] of Object.entries(answer.headers ?? {})) reply.header(name, value)
  const body = answer.body
  if (body instanceof Readable) return reply.send(body)
  return body ?? ''
}

/** Builds the spec as a Fastify 5 app: the plugin with `defaults`, route `config.cache` and `config.invalidates`. */
export const fastifyDriver: HttpDriver = {
  name: 'fastify',
  async start(cache: TierCache, spec: AppSpec): Promise<RunningApp> {
    const app = Fastify()
    await app.register(tiercache, { cache, ...(spec.defaults === undefined ? {} : { defaults: spec.defaults }) })
    for (const route of spec.routes) {
      app.route({
        method: route.method,
        url: route.path,
        config: {
          ...(route.cache === undefined ? {} : { cache: route.cache }),
          ...(route.invalidates === undefined ? {} : { invalidates: route.invalidates }),
        },
        handler: async (request: FastifyRequest, reply: FastifyReply) => {
          const answer = await route.handler({
            method: request.method,
            params: request.params as Record<string, string>,
            query: request.query as Record<string, unknown>,
            headers: request.headers,
          })
          return write(reply, answer)
        },
      })
    }
    try {
      await app.listen({ port: 0, host: '127.0.0.1' })
    } catch (error) {
      await app.close()
      throw error
    }
    const address = app.server.address()
    const port = typeof address === 'object' && address !== null ? address.port : 0
    return { url: `http://127.0.0.1:${port}`, close: () => app.close() }
  },
}

describeHttpCacheCases(fastifyDriver)
describeHttpCacheCases(fastifyDriver, { l1Only: true })
describeHttpFuzzCases(fastifyDriver)
