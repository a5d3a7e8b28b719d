import { describe, expect, it } from 'vitest'
import { RedisStandalone, testStandalone } from '../src/index.js'

describe('RedisStandalone (the run-wide standalone Redis)', () => {
  it('answers on its port and was emptied before this file', async () => {
    const redis = testStandalone()
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`)
    expect(await redis.command(['DBSIZE'])).toBe(0)
    expect(await redis.command(['INFO', 'cluster'])).toContain('cluster_enabled:0')
  })

  it('restarts on the same port with a new process and no data', async () => {
    const redis = testStandalone()
    await redis.command(['SET', 'k', 'v'])
    const pid = redis.pid
    await redis.restart()
    expect(redis.pid).not.toBe(pid)
    expect(await redis.command(['GET', 'k'])).toBeNull()
  })

  it('stops answering while paused and answers again once resumed', async () => {
    const redis = testStandalone()
    await redis.pause()
    await expect(redis.command(['PING'], { timeoutMs: 200 })).rejects.toThrow(/did not answer/)
    await redis.resume()
    expect(await redis.command(['PING'])).toBe('PONG')
  })

  it('ensureHealthy restarts a killed node', async () => {
    const redis = RedisStandalone.attach(testStandalone().stateFile)
    await redis.kill()
    expect(redis.pid).toBeUndefined()
    await expect(redis.command(['PING'], { timeoutMs: 200 })).rejects.toThrow()
    await redis.ensureHealthy()
    expect(await redis.command(['PING'])).toBe('PONG')
  })

  it('flushAll deletes every key', async () => {
    const redis = testStandalone()
    await redis.command(['MSET', 'a', '1', 'b', '2'])
    await redis.flushAll()
    expect(await redis.command(['DBSIZE'])).toBe(0)
  })
})
