export { StatusServer } from './StatusServer.js';
export { RecoveryTraces } from './RecoveryTraces.js';
export type { RecoveryTrace } from './RecoveryTraces.js';
export { DEFAULT_STATUS_PORT, resolveStatusServerOptions, statusServerSchema } from './options.js';
export type { ResolvedStatusServerOptions, StatusServerOptions } from './options.js';
export { HIDDEN_VALUE } from './snapshot.js';
export type { BreakerView, ComponentView, StatusSnapshot, StatusSource } from './snapshot.js';
export type { RecoveryAttemptView, RecoveryView } from './RecoveryLog.js';
