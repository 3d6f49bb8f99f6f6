export { DEFAULT_THRESHOLDS, Hysteresis, classify, resolveThresholds, worse } from './classify.js';
export { ComponentWindow } from './ComponentWindow.js';
export type { WindowSnapshot } from './ComponentWindow.js';
export { ComponentNames } from './componentKey.js';
export type { ComponentKind } from './componentKey.js';
export { HealthMonitor } from './HealthMonitor.js';
export type { AnomalyEvent, ComponentHealth, HealthMonitorOptions, Prediction, StreamingDetector, SystemHealth } from './HealthMonitor.js';
export { HealthSpanProcessor } from './HealthSpanProcessor.js';
export { RecordingSampler } from './RecordingSampler.js';
export type { SamplerLike } from './RecordingSampler.js';
export { HEALTHY, LEVEL_VALUE } from './types.js';
export type {
  Alert,
  AlertSeverity,
  HealthChange,
  HealthLevel,
  HealthMetrics,
  HealthStatus,
  HealthThresholds,
  LevelThresholds,
  SystemSignal,
} from './types.js';
export { ComponentHealthMonitor } from './ComponentHealthMonitor.js';
export type { ComponentHealthMonitorOptions } from './ComponentHealthMonitor.js';
export {
  CheckRunner,
  DEFAULT_INTERVAL_MS,
  DEFAULT_TIMEOUT_MS,
  HEALTH_CHECK_TIMEOUT_CODE,
  HealthCheckTimeoutError,
  httpCheck,
  runUnguarded,
  tcpCheck,
} from './checks/index.js';
export type { CheckResult, CheckRunnerOptions, CheckRunnerStats, HealthCheck, HttpCheckOptions } from './checks/index.js';
