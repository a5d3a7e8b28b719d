export { type BusMessage, decodeBusMessage, encodeBusMessage } from './bus-message.js'
export { type BreakerEvent, createCache, type HotKeyEvent, type TierCache } from './cache.js'
export type { BreakerState } from './circuit-breaker.js'
export { type Clock, ManualClock, type RandomSource, systemClock } from './clock.js'
export { type CacheOptions, cacheOptionsSchema, DEFAULTS, type EntityOptions } from './config-schema.js'
export { type Duration, parseDuration } from './duration.js'
export type { BatchLoader, EntityHandle, InvalidatingOptions, Loader, WrapOptions } from './entity-cache.js'
export type { EntityPolicy, L1Policy, TagsOf, ValueSchema } from './entity-policy.js'
export { decodeEnvelope, type Envelope, encodeEnvelope } from './envelope.js'
export { isTierCacheError, TierCacheError, type TierCacheErrorCode } from './errors.js'
export type { HotKeyInfo } from './hot-key-detector.js'
export { hasHashTag, isValidTag, KeyBuilder, MAX_ID_LENGTH, namespaceKeyPrefixes, tagStampKey } from './key-builder.js'
export { type Logger, silentLogger } from './logger.js'
export {
  CHANNELS,
  type InvalidateMessage,
  type L2ErrorMessage,
  type LoadMessage,
  type ReadMessage,
  type ReadTier,
} from './metrics/channels.js'
export { type EntityLatencies, L1_SAMPLE_MASK } from './metrics/entity-metrics.js'
export { type HistogramSnapshot, histogramDelta, histogramQuantile, LATENCY_BUCKETS_MS } from './metrics/latency-histogram.js'
export { type MetricFamily, type MetricSeries, type MetricsReading, metricFamilies } from './metrics/metric-families.js'
export { PROMETHEUS_CONTENT_TYPE, type PrometheusOptions, renderPrometheus } from './metrics/prometheus.js'
export {
  TRACING_CHANNELS,
  type TraceContext,
  type TracedOperation,
  type TraceOutcome,
} from './metrics/tracing.js'
export type { BusHandlers, BusSubscription, ReadyCheck, RemoteStore } from './remote-store.js'
export { jsonSerializer, type Serializer } from './serializer.js'
export type { EntityStats } from './stats.js'
export { earlyRefreshFrom, shouldRefreshEarly } from './xfetch.js'
