export { HttpPolicy, destinationFromOrigin, isAbort, originOf, otlpOrigins } from './HttpPolicy.js';
export type { BreakerRuntime, HttpBreakerInstrumentationConfig, HttpBreakerOptions, HttpDestination, HttpOutcome } from './types.js';
