export { BreakerInstrumentation, TelemetryInstrumentation } from './BreakerInstrumentation.js';
export { GuardedCall, refuse } from './GuardedCall.js';
export { HttpPolicy, destinationFromOrigin, isAbort, originOf, otlpOrigins } from './HttpPolicy.js';
export type { Target } from './HttpPolicy.js';
export type { BreakerRuntime, HttpBreakerInstrumentationConfig, HttpBreakerOptions, HttpDestination, HttpOutcome } from './types.js';
