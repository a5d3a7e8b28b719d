export { type BreakerEvent, createCache, type HotKeyEvent, type ShardBreakerEvent, type TierCache } from './cache.js'
export { type CacheOptions, cacheOptionsSchema, DEFAULTS, type EntityOptions } from './config/config-schema.js'
export type { CompressionPolicy, EntityPolicy, L1Policy, TagsOf, ValueSchema } from './config/entity-policy.js'
/**
 * For operators' tools that build keys without a cache (`tiercache get`): `NAME_PATTERN` is what a
 * namespace or entity name must match. `assertStorableId` (exported with the key builder below)
 * throws the `INVALID_KEY` a cache throws for an id that cannot reach L2.
 */
export { NAME_PATTERN } from './config/name-pattern.js'
export type {
  BatchLoader,
  BatchLoaderContext,
  EntityHandle,
  InvalidatingOptions,
  Loader,
  LoaderContext,
  ValuePolicy,
  WrapOptions,
} from './entity/entity-handle.js'
export { earlyRefreshFrom, shouldRefreshEarly } from './entity/xfetch.js'
export type { HotKeyInfo } from './hot-keys/hot-key-detector.js'
export { type BusMessage, decodeBusMessage, encodeBusMessage } from './invalidation/bus-message.js'
export type { BreakerState } from './l2/circuit-breaker.js'
export { decodeEnvelope, type Envelope, encodeEnvelope } from './l2/envelope.js'
export { compressEnvelope, decompressEnvelope } from './l2/envelope-compression.js'
export { assertStorableId, hasHashTag, isValidTag, KeyBuilder, MAX_ID_LENGTH, namespaceKeyPrefixes, tagStampKey } from './l2/key-builder.js'
export type {
  BusHandlers,
  BusLossCause,
  BusSubscription,
  DeleteOutcome,
  ReadyCheck,
  RemoteStore,
  TopologyChange,
} from './l2/remote-store.js'
export {
  CHANNELS,
  type InvalidateMessage,
  type L2ErrorMessage,
  type LoadMessage,
  type ReadMessage,
  type ReadTier,
} from './metrics/channels.js'
export { type EntityLatencies, L1_SAMPLE_MASK } from './metrics/entity-metrics.js'
export type { EntityStats } from './metrics/entity-stats.js'
export { type HistogramSnapshot, histogramDelta, histogramQuantile, LATENCY_BUCKETS_MS } from './metrics/latency-histogram.js'
export { type MetricFamily, type MetricSeries, type MetricsReading, metricFamilies } from './metrics/metric-families.js'
export { PROMETHEUS_CONTENT_TYPE, type PrometheusOptions, renderPrometheus } from './metrics/prometheus.js'
export {
  L2_TRACING_CHANNEL,
  type L2TraceContext,
  type L2TraceOutcome,
  TRACING_CHANNELS,
  type TraceContext,
  type TracedOperation,
  type TraceOutcome,
} from './metrics/tracing.js'
export { type ByteSize, tryParseByteSize } from './util/byte-size.js'
export { type Clock, ManualClock, type RandomSource, systemClock } from './util/clock.js'
export { COMPRESSION_LEVELS, type CompressionCodec, zstdAvailable } from './util/compression.js'
export { type Duration, parseDuration } from './util/duration.js'
export { isTierCacheError, TierCacheError, type TierCacheErrorCode, type TierCacheErrorOptions } from './util/errors.js'
export { type Logger, silentLogger } from './util/logger.js'
export { jsonSerializer, type Serializer } from './util/serializer.js'
