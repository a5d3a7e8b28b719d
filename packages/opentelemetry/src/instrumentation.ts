import { AsyncLocalStorage } from 'node:async_hooks'
import { subscribe, tracingChannel, unsubscribe } from 'node:diagnostics_channel'
import {
  type Context,
  type MeterProvider,
  metrics,
  context as otelContext,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TracerProvider,
  trace,
} from '@opentelemetry/api'
import {
  CHANNELS,
  L2_TRACING_CHANNEL,
  type L2ErrorMessage,
  type L2TraceContext,
  TRACING_CHANNELS,
  type TraceContext,
  type TracedOperation,
} from '@tiercache/core'
import { endAttributes, l2EndAttributes, l2ErrorAttributes, l2StartAttributes, startAttributes } from './attributes.js'

/** An operation that can get a span: one of tiercache's operations, or `l2` for each call to the remote store. */
export type SpannedOperation = TracedOperation | 'l2'

/** Options of {@link instrumentTiercache}. */
export interface TiercacheInstrumentationOptions {
  /** Where spans go. Default: the global tracer provider (`trace.setGlobalTracerProvider`, the SDK's `start()`). */
  tracerProvider?: TracerProvider
  /** Where metrics go. Default: the global meter provider. */
  meterProvider?: MeterProvider
  /**
   * Operations that get a span. Default all: `get`, `getMany`, `load`, `set`, `invalidate`, and
   * `l2` (one CLIENT span per call to the remote store). Metrics cover all either way.
   */
  spans?: readonly SpannedOperation[]
  /** `db.system.name` of L2 spans and metrics. Default `redis`. */
  dbSystem?: string
}

/** A running instrumentation; `disable()` unsubscribes it from every channel. */
export interface TiercacheInstrumentation {
  disable(): void
}

const SCOPE = '@tiercache/opentelemetry'

type AnyContext = TraceContext | L2TraceContext

/**
 * Subscribes to tiercache's tracing channels (`tiercache:get`, `getMany`, `load`, `set`,
 * `invalidate`, `l2`) and its `tiercache:l2-error` channel, for every cache in the process, and
 * turns them into:
 *
 * - a span per call (`tiercache.get`, ...; kind INTERNAL) with `cache.operation`, `cache.hit`,
 *   `tiercache.namespace`, `tiercache.entity`, `tiercache.tier`, `tiercache.outcome`,
 *   `tiercache.count`, and `error.type` with status ERROR and the exception when it fails; ids
 *   (`cache.key`) only when the cache was created with `tracing: { ids: true }`;
 * - a span per L2 call (`tiercache.l2 <call>`; kind CLIENT) with `db.system.name` (`redis`),
 *   `db.operation.name`, `server.address`/`server.port` of the shard, `db.operation.batch.size`;
 * - the histograms `tiercache.operation.duration` and `db.client.operation.duration` (seconds)
 *   with the same attributes less ids;
 * - the counter `tiercache.l2.errors` with `db.system.name`, `db.operation.name`, `error.type`.
 *
 * A span's parent is the tiercache span it runs in (the `get` of an L2 call or a load), else the
 * active context, so a `get` inside a request span is its child. Call once at start-up, after
 * the OpenTelemetry SDK.
 */
export function instrumentTiercache(options: TiercacheInstrumentationOptions = {}): TiercacheInstrumentation {
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE)
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE)
  const duration = meter.createHistogram('tiercache.operation.duration', {
    description: 'Duration of tiercache operations (get, getMany, load, set, invalidate), by outcome.',
    unit: 's',
  })
  const l2Duration = meter.createHistogram('db.client.operation.duration', {
    description: 'Duration of the calls tiercache makes to its remote store (L2), by call and outcome.',
    unit: 's',
  })
  const l2Errors = meter.createCounter('tiercache.l2.errors', {
    description: 'Failed L2 calls (reads that became misses, writes skipped or retried).',
  })
  const spanned = new Set<SpannedOperation>(options.spans ?? [...(Object.keys(TRACING_CHANNELS) as TracedOperation[]), 'l2'])
  const dbSystem = options.dbSystem ?? 'redis'
  // One entry per call in flight, keyed by the context object every event of the call carries.
  const calls = new WeakMap<AnyContext, { span: Span | undefined; startedAt: number }>()
  // The OpenTelemetry context a traced call runs in (its own span set), so the calls it makes
  // (an L2 call, a load) find their parent. Bound to each channel's `start`, whose `runStores`
  // wraps the call: the store's transform runs before `start` is published, so it opens the span.
  const running = new AsyncLocalStorage<Context>()

  const open = (context: AnyContext): Context => {
    const parent = running.getStore() ?? otelContext.active()
    const span = spanned.has(context.operation)
      ? context.operation === 'l2'
        ? tracer.startSpan(
            `tiercache.l2 ${context.command}`,
            { kind: SpanKind.CLIENT, attributes: l2StartAttributes(context, dbSystem) },
            parent,
          )
        : tracer.startSpan(`tiercache.${context.operation}`, { kind: SpanKind.INTERNAL, attributes: startAttributes(context) }, parent)
      : undefined
    calls.set(context, { span, startedAt: performance.now() })
    return span === undefined ? parent : trace.setSpan(parent, span)
  }

  const close = (context: AnyContext) => {
    const call = calls.get(context)
    if (call === undefined) return
    calls.delete(context)
    const seconds = (performance.now() - call.startedAt) / 1000
    const attributes = context.operation === 'l2' ? l2EndAttributes(context, dbSystem) : endAttributes(context)
    if (context.operation === 'l2') l2Duration.record(seconds, attributes)
    else duration.record(seconds, attributes)
    const span = call.span
    if (span === undefined) return
    span.setAttributes(attributes)
    if (context.error !== undefined) {
      if (context.error instanceof Error) span.recordException(context.error)
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: context.error instanceof Error ? context.error.message : String(context.error),
      })
    }
    span.end()
  }

  const subscribers = { start() {}, end() {}, asyncStart() {}, error() {}, asyncEnd: close }
  const channels = [...Object.values(TRACING_CHANNELS), L2_TRACING_CHANNEL].map((name) => tracingChannel<unknown, AnyContext>(name))
  for (const channel of channels) {
    channel.start.bindStore(running, open)
    channel.subscribe(subscribers)
  }
  const onL2Error = (message: unknown) => l2Errors.add(1, l2ErrorAttributes(message as L2ErrorMessage, dbSystem))
  subscribe(CHANNELS.l2Error, onL2Error)

  return {
    disable() {
      for (const channel of channels) {
        channel.unsubscribe(subscribers)
        channel.start.unbindStore(running)
      }
      unsubscribe(CHANNELS.l2Error, onL2Error)
    },
  }
}
