import { connect } from 'node:net'

/**
 * A reply decoded from RESP2: simple and bulk strings as UTF-8 strings, integers as numbers,
 * nil as `null`, arrays as arrays, and error replies as {@link RedisReplyError} values.
 */
export type RespValue = string | number | null | RedisReplyError | RespValue[]

/** An error reply from Redis (`-ERR ...`, `-MOVED ...`), kept apart from transport errors. */
export class RedisReplyError extends Error {
  override readonly name = 'RedisReplyError'
}

/** Where to send a command and how long to wait for the answer. */
export interface RedisCommandOptions {
  /** Host to connect to. Default `127.0.0.1`: the testkit's nodes only listen on loopback. */
  host?: string
  /**
   * Milliseconds to wait for the connection and every reply together. Default 2000. A paused
   * (SIGSTOP) node accepts connections but never answers, so this bound is what reports it.
   */
  timeoutMs?: number
}

type Argument = string | number

/**
 * Sends one command to a Redis node on a fresh connection and resolves with its reply; an error
 * reply rejects with {@link RedisReplyError}.
 *
 * A connection per command is deliberate: nodes are killed, paused and restarted under the
 * testkit's feet, and a client that reconnects, queues or retries by itself would hide exactly
 * what a test wants to see. On loopback the extra connect costs well under a millisecond.
 */
export async function redisCommand(port: number, args: readonly Argument[], options: RedisCommandOptions = {}): Promise<RespValue> {
  const [reply] = await redisPipeline(port, [args], options)
  if (reply instanceof RedisReplyError) throw reply
  return reply ?? null
}

/**
 * Sends several commands on one fresh connection and resolves with their replies in order. Error
 * replies come back as {@link RedisReplyError} values in the array rather than rejecting, so one
 * failed command does not hide the others; transport failures and the timeout reject.
 */
export function redisPipeline(
  port: number,
  commands: readonly (readonly Argument[])[],
  options: RedisCommandOptions = {},
): Promise<RespValue[]> {
  const { host = '127.0.0.1', timeoutMs = 2_000 } = options
  const describe = `${host}:${port} (${commands.map((c) => String(c[0] ?? '')).join(', ')})`
  return new Promise((resolve, reject) => {
    const replies: RespValue[] = []
    let buffer: Buffer = Buffer.alloc(0)
    let settled = false
    const socket = connect({ host, port })
    const finish = (error: Error | undefined): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      if (error) reject(error)
      else resolve(replies)
    }
    const timer = setTimeout(() => finish(new Error(`Redis at ${describe} did not answer within ${timeoutMs} ms`)), timeoutMs)
    socket.setNoDelay(true)
    socket.on('connect', () => socket.write(encodeCommands(commands)))
    socket.on('data', (chunk: Buffer) => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk])
      try {
        let offset = 0
        for (;;) {
          const parsed = parseReply(buffer, offset)
          if (parsed === undefined) break
          replies.push(parsed[0])
          offset = parsed[1]
          if (replies.length === commands.length) return finish(undefined)
        }
        buffer = buffer.subarray(offset)
      } catch (error) {
        finish(error as Error)
      }
    })
    socket.on('error', (error) => finish(new Error(`Redis at ${describe}: ${error.message}`, { cause: error })))
    socket.on('close', () => finish(new Error(`Redis at ${describe} closed the connection before answering`)))
  })
}

/** Encodes commands as RESP arrays of bulk strings, the only request form Redis needs. */
export function encodeCommands(commands: readonly (readonly Argument[])[]): Buffer {
  const parts: string[] = []
  for (const command of commands) {
    parts.push(`*${command.length}\r\n`)
    for (const arg of command) {
      const text = String(arg)
      parts.push(`$${Buffer.byteLength(text)}\r\n${text}\r\n`)
    }
  }
  return Buffer.from(parts.join(''))
}

/**
 * Parses one RESP2 reply starting at `offset`. Returns the value and the offset after it, or
 * `undefined` when the buffer does not hold the whole reply yet.
 */
export function parseReply(buffer: Buffer, offset: number): [RespValue, number] | undefined {
  const lineEnd = buffer.indexOf('\r\n', offset)
  if (lineEnd === -1) return undefined
  const type = buffer[offset]
  const line = buffer.toString('utf8', offset + 1, lineEnd)
  const next = lineEnd + 2
  switch (type) {
    case 0x2b: // '+'
      return [line, next]
    case 0x2d: // '-'
      return [new RedisReplyError(line), next]
    case 0x3a: // ':'
      return [Number(line), next]
    case 0x24: {
      // '$'
      const length = Number(line)
      if (length < 0) return [null, next]
      if (buffer.length < next + length + 2) return undefined
      return [buffer.toString('utf8', next, next + length), next + length + 2]
    }
    case 0x2a: {
      // '*'
      const count = Number(line)
      if (count < 0) return [null, next]
      const items: RespValue[] = []
      let position = next
      for (let i = 0; i < count; i++) {
        const item = parseReply(buffer, position)
        if (item === undefined) return undefined
        items.push(item[0])
        position = item[1]
      }
      return [items, position]
    }
    default:
      throw new Error(`Unexpected RESP reply type byte ${String(type)} at offset ${offset}`)
  }
}
