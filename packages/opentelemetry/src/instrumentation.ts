import { subscribe, tracingChannel, unsubscribe } from 'node:diagnostics_channel'
import { type MeterProvider, metrics, type Span, SpanKind, SpanStatusCode, type TracerProvider, trace } from '@opentelemetry/api'
import { CHANNELS, type L2ErrorMessage, TRACING_CHANNELS, type TraceContext, type TracedOperation } from '@tiercache/core'
import { endAttributes, l2ErrorAttributes, startAttributes } from './attributes.js'

/** Options of {@link instrumentTiercache}. */
export interface TiercacheInstrumentationOptions {
  /** Where spans go. Default: the global tracer provider (`trace.setGlobalTracerProvider`, the SDK's `start()`). */
  tracerProvider?: TracerProvider
  /** Where metrics go. Default: the global meter provider. */
  meterProvider?: MeterProvider
  /** Operations that get a span. Default all: `get`, `getMany`, `load`, `set`, `invalidate`. Metrics cover all either way. */
  spans?: readonly TracedOperation[]
  /** `db.system.name` of the L2 error metric. Default `redis`. */
  dbSystem?: string
}

/** A running instrumentation; `disable()` unsubscribes it from every channel. */
export interface TiercacheInstrumentation {
  disable(): void
}

const SCOPE = '@tiercache/opentelemetry'

/**
 * Subscribes to tiercache's tracing channels (`tiercache:get`, `getMany`, `load`, `set`,
 * `invalidate`) and its `tiercache:l2-error` channel, for every cache in the process, and turns
 * them into:
 *
 * - a span per call (`tiercache.get`, ...; kind INTERNAL) with `cache.operation`, `cache.hit`,
 *   `tiercache.namespace`, `tiercache.entity`, `tiercache.tier`, `tiercache.outcome`,
 *   `tiercache.count`, and `error.type` with status ERROR and the exception when it fails; ids
 *   (`cache.key`) only when the cache was created with `tracing: { ids: true }`;
 * - the histogram `tiercache.operation.duration` (seconds) with the same attributes less ids;
 * - the counter `tiercache.l2.errors` with `db.system.name` (`redis`), `db.operation.name`,
 *   `error.type`.
 *
 * Spans start with the active context as parent, so a `get` inside a request span is its child.
 * Call once at start-up, after the OpenTelemetry SDK.
 */
export function instrumentTiercache(options: TiercacheInstrumentationOptions = {}): TiercacheInstrumentation {
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE)
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE)
  const duration = meter.createHistogram('tiercache.operation.duration', {
    description: 'Duration of tiercache operations (get, getMany, load, set, invalidate), by outcome.',
    unit: 's',
  })
  const l2Errors = meter.createCounter('tiercache.l2.errors', {
    description: 'Failed L2 calls (reads that became misses, writes skipped or retried).',
  })
  const spanned = new Set<TracedOperation>(options.spans ?? (Object.keys(TRACING_CHANNELS) as TracedOperation[]))
  const dbSystem = options.dbSystem ?? 'redis'
  // One entry per call in flight, keyed by the context object every event of the call carries.
  const calls = new WeakMap<TraceContext, { span: Span | undefined; startedAt: number }>()

  const subscribers = {
    start(context: TraceContext) {
      const span = spanned.has(context.operation)
        ? tracer.startSpan(`tiercache.${context.operation}`, { kind: SpanKind.INTERNAL, attributes: startAttributes(context) })
        : undefined
      calls.set(context, { span, startedAt: performance.now() })
    },
    end() {},
    asyncStart() {},
    error() {},
    asyncEnd(context: TraceContext) {
      const call = calls.get(context)
      if (call === undefined) return
      calls.delete(context)
      const attributes = endAttributes(context)
      duration.record((performance.now() - call.startedAt) / 1000, attributes)
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
    },
  }
  const channels = Object.values(TRACING_CHANNELS).map((name) => tracingChannel<unknown, TraceContext>(name))
  for (const channel of channels) channel.subscribe(subscribers)
  const onL2Error = (message: unknown) => l2Errors.add(1, l2ErrorAttributes(message as L2ErrorMessage, dbSystem))
  subscribe(CHANNELS.l2Error, onL2Error)

  return {
    disable() {
      for (const channel of channels) channel.unsubscribe(subscribers)
      unsubscribe(CHANNELS.l2Error, onL2Error)
    },
  }
}
