export { BreakerTelemetry } from './BreakerTelemetry.js';
export { HealthTelemetry } from './HealthTelemetry.js';
export type { RejectedCall } from './BreakerTelemetry.js';
export type { EventLoggerProvider } from './logs.js';
export { SCOPE_NAME } from './names.js';
