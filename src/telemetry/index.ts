export { BreakerTelemetry } from './BreakerTelemetry.js';
export { HealthTelemetry } from './HealthTelemetry.js';
export { RecoveryTelemetry } from './RecoveryTelemetry.js';
export { ConfigTelemetry } from './ConfigTelemetry.js';
export type { RejectedCall } from './BreakerTelemetry.js';
export type { TelemetryHub } from './RecoveryTelemetry.js';
export type { EventLoggerProvider } from './logs.js';
export { SCOPE_NAME } from './names.js';
