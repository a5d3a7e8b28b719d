import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { CapturedResponse } from './captured-response.js'
import { responsePolicyOf } from './response-policy.js'
import { type UncacheableReason, UncacheableResponse } from './uncacheable.js'

type WriteHead = ServerResponse['writeHead']
type Write = ServerResponse['write']
type End = ServerResponse['end']
type FlushHeaders = ServerResponse['flushHeaders']

/**
 * Where a capture runs. `own`: on the client's own response, which goes out later with the
 * cache's answer (or as the handler wrote it, when it is not stored). `internal`: on the response
 * of an internal request (a background refresh), which never reaches a socket.
 */
export type CaptureMode = 'own' | 'internal'

const EMPTY = Buffer.alloc(0)

/**
 * Holds back what a handler writes on a `ServerResponse` until the cache decides what to send:
 * `writeHead`, `write`, `flushHeaders` and `end` are replaced on the instance (Node's response
 * has no hook for this), the status and headers stay on the response as the handler set them,
 * and `end(body)` resolves {@link result}. A `write` or `flushHeaders` before `end` is a stream:
 * an own response is then released and streams to the client as written, uncached; an internal
 * one is dropped. An own response whose client goes away before `end` fails with `aborted`.
 */
export class ResponseCapture {
  /** The response the handler produced; rejects with {@link UncacheableResponse} for a stream, an abort or no handler. */
  readonly result: Promise<CapturedResponse>
  private resolveResult!: (captured: CapturedResponse) => void
  private rejectResult!: (error: UncacheableResponse) => void
  private settled = false
  private released = false
  private readonly original: { writeHead: WriteHead; write: Write; end: End; flushHeaders: FlushHeaders }

  constructor(
    private readonly res: ServerResponse,
    private readonly mode: CaptureMode,
  ) {
    this.result = new Promise<CapturedResponse>((resolve, reject) => {
      this.resolveResult = resolve
      this.rejectResult = reject
    })
    // A failed capture is always observed by the loader; this keeps an abort after the handler's end from surfacing as unhandled.
    this.result.catch(() => {})
    this.original = { writeHead: res.writeHead, write: res.write, end: res.end, flushHeaders: res.flushHeaders }
    const capture = this
    res.writeHead = function writeHead(this: ServerResponse, status: number, ...rest: unknown[]) {
      capture.applyWriteHead(status, rest)
      return this
    } as WriteHead
    res.write = function write(this: ServerResponse, ...args: unknown[]) {
      return capture.streamed('write', args)
    } as Write
    res.flushHeaders = function flushHeaders(this: ServerResponse) {
      capture.streamed('flushHeaders', [])
    }
    res.end = function end(this: ServerResponse, ...args: unknown[]) {
      capture.ended(args)
      return this
    } as End
    if (mode === 'own') {
      res.once('close', () => {
        if (!res.writableFinished) this.fail('aborted')
      })
    }
  }

  /** Puts the response's own methods back, so the cache's answer (or the handler's) can be written. Idempotent. */
  release(): void {
    if (this.released) return
    this.released = true
    const res = this.res
    res.writeHead = this.original.writeHead
    res.write = this.original.write
    res.end = this.original.end
    res.flushHeaders = this.original.flushHeaders
  }

  /** Fails the capture (no response to store); later writes are still held back until {@link release}. */
  fail(reason: UncacheableReason): void {
    if (this.settled) return
    this.settled = true
    this.rejectResult(new UncacheableResponse(reason))
  }

  private applyWriteHead(status: number, rest: unknown[]): void {
    const res = this.res
    res.statusCode = status
    let headers = rest[0]
    if (typeof headers === 'string') {
      res.statusMessage = headers
      headers = rest[1]
    }
    if (Array.isArray(headers)) {
      // Node accepts [[name, value], ...] and the flat raw form [name, value, name, value, ...].
      if (Array.isArray(headers[0])) {
        for (const [name, value] of headers as [string, string][]) res.setHeader(name, value)
      } else {
        for (let i = 0; i + 1 < headers.length; i += 2) res.setHeader(String(headers[i]), headers[i + 1] as string)
      }
    } else if (typeof headers === 'object' && headers !== null) {
      for (const [name, value] of Object.entries(headers as OutgoingHttpHeaders)) if (value !== undefined) res.setHeader(name, value)
    }
  }

  private streamed(method: 'write' | 'flushHeaders', args: unknown[]): boolean {
    const res = this.res
    this.fail('stream')
    if (this.mode === 'internal') {
      // A refresh of a route that now streams: drop it, and stop whoever pipes into it.
      res.write = (() => true) as Write
      res.end = function end(this: ServerResponse) {
        return this
      } as End
      res.destroy()
      return false
    }
    this.release()
    if (!res.headersSent) res.setHeader('x-cache', 'MISS')
    if (method === 'flushHeaders') {
      res.flushHeaders()
      return true
    }
    return (res.write as (...a: unknown[]) => boolean)(...args)
  }

  private ended(args: unknown[]): void {
    if (this.settled) return
    let [chunk, encoding, callback] = args
    if (typeof chunk === 'function') {
      callback = chunk
      chunk = undefined
    } else if (typeof encoding === 'function') {
      callback = encoding
      encoding = undefined
    }
    if (typeof callback === 'function') this.res.once('finish', callback as () => void)
    const body =
      chunk === undefined || chunk === null
        ? EMPTY
        : Buffer.isBuffer(chunk)
          ? chunk
          : chunk instanceof Uint8Array
            ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
            : Buffer.from(String(chunk), typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
    this.settled = true
    this.resolveResult({ status: this.res.statusCode, headers: this.res.getHeaders(), body, policy: responsePolicyOf(this.res) })
  }
}
