export { HttpBreakerInstrumentation } from './http/index.js';
export { UndiciBreakerInstrumentation } from './undici/index.js';
export { HttpPolicy, TelemetryInstrumentation, destinationFromOrigin, isAbort, otlpOrigins } from './shared/index.js';
export type { BreakerRuntime, HttpBreakerInstrumentationConfig, HttpBreakerOptions, HttpDestination, HttpOutcome } from './shared/index.js';
export { DB_INSTRUMENTATIONS } from './db.js';
export type { DbClient } from './db.js';
export type { DbBreakerOptions, DbDestination, PoolTracker } from './shared/index.js';
