export { BreakerTelemetry, globalMeterProvider } from './BreakerTelemetry.js';
export type { RejectedCall } from './BreakerTelemetry.js';
export type { EventLoggerProvider } from './logs.js';
export { redactUrl } from './redact.js';
export { ATTR_CLUSTER, ATTR_NODE_ID, SCOPE_NAME } from './names.js';
