export { BreakerInstrumentation, PACKAGE_VERSION, TelemetryInstrumentation } from './BreakerInstrumentation.js';
export type { BreakerInstrumentationConfig } from './BreakerInstrumentation.js';
export { GuardedCall, refuse } from './GuardedCall.js';
export { HttpPolicy, destinationFromOrigin, isAbort, originOf, otlpOrigins } from './HttpPolicy.js';
export type { Target } from './HttpPolicy.js';
export type { BreakerRuntime, PoolTracker, HttpBreakerInstrumentationConfig, HttpBreakerOptions, HttpDestination, HttpOutcome } from './types.js';
export * from "./db/index.js";
