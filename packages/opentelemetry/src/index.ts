/**
 * @tiercache/opentelemetry: OpenTelemetry spans and metrics from tiercache's tracing channels,
 * through `@opentelemetry/api`. See README.md.
 */
export { ATTRIBUTES } from './attributes.js'
export {
  instrumentTiercache,
  type SpannedOperation,
  type TiercacheInstrumentation,
  type TiercacheInstrumentationOptions,
} from './instrumentation.js'
