import { createServer, type Server } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { RedisReplyError, redisCommand, redisPipeline, testStandalone } from '../src/index.js'
import { parseReply } from '../src/resp-client.js'

describe('RESP client', () => {
  let server: Server | undefined
  afterEach(() => {
    server?.close()
    server = undefined
  })

  it('round-trips strings, integers, nil and arrays with a real Redis', async () => {
    const { port } = testStandalone()
    expect(await redisCommand(port, ['SET', 'greeting', 'żółw 🐢 \r\n'])).toBe('OK')
    expect(await redisCommand(port, ['GET', 'greeting'])).toBe('żółw 🐢 \r\n')
    expect(await redisCommand(port, ['GET', 'missing'])).toBeNull()
    expect(await redisCommand(port, ['INCRBY', 'counter', 5])).toBe(5)
    expect(await redisCommand(port, ['MGET', 'greeting', 'missing', 'counter'])).toEqual(['żółw 🐢 \r\n', null, '5'])
  })

  it('rejects an error reply with RedisReplyError and keeps it as a value in a pipeline', async () => {
    const { port } = testStandalone()
    await expect(redisCommand(port, ['NOSUCHCOMMAND'])).rejects.toBeInstanceOf(RedisReplyError)
    const [bad, good] = await redisPipeline(port, [['NOSUCHCOMMAND'], ['PING']])
    expect(bad).toBeInstanceOf(RedisReplyError)
    expect(good).toBe('PONG')
  })

  it('reads replies split across packets', () => {
    const whole = Buffer.from('*2\r\n$5\r\nhello\r\n:42\r\n')
    for (let cut = 0; cut < whole.length; cut++) expect(parseReply(whole.subarray(0, cut), 0)).toBeUndefined()
    expect(parseReply(whole, 0)).toEqual([['hello', 42], whole.length])
  })

  it('times out on a server that accepts but never answers, like a paused node', async () => {
    server = createServer(() => {})
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
    const address = server.address()
    const port = typeof address === 'object' && address !== null ? address.port : 0
    await expect(redisCommand(port, ['PING'], { timeoutMs: 100 })).rejects.toThrow(/did not answer within 100 ms/)
  })
})
