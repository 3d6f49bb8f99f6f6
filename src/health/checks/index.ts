export { CheckRunner } from './CheckRunner.js';
export { HealthCheckTimeoutError, HEALTH_CHECK_TIMEOUT_CODE } from './errors.js';
export { httpCheck, type HttpCheckOptions } from './httpCheck.js';
export { DEFAULT_INTERVAL_MS, DEFAULT_TIMEOUT_MS, type CheckRunnerOptions } from './options.js';
export { tcpCheck } from './tcpCheck.js';
export type { CheckResult, CheckRunnerStats, HealthCheck } from './types.js';
export { runUnguarded } from './unguarded.js';
