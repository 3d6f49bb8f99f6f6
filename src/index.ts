// The public API of otel-self-heal. Everything a user imports comes from here.
export {
  CIRCUIT_OPEN_CODE,
  CircuitBreaker,
  CircuitBreakerRegistry,
  CircuitOpenError,
  DEFAULT_BREAKER_OPTIONS,
  REJECTED,
  findCircuitOpenError,
  isCircuitOpenError,
} from './breaker/index.js';
export type {
  BreakerBehaviour,
  BreakerOptions,
  BreakerSnapshot,
  CircuitBreakerResult,
  CircuitState,
  Fallback,
  FallbackTrigger,
  RegistryOptions,
  ResolvedBreakerOptions,
  StateChange,
  TransitionReason,
} from './breaker/index.js';
export { ConfigValidationError } from './config/index.js';
export type { Clock } from './clock.js';
export type { Disposer } from './disposer.js';
export { withSelfHealing } from './withSelfHealing.js';
export { SelfHealing, getSelfHealing } from './SelfHealing.js';
export type { SelfHealingOptions } from './options.js';
// The live status page (opt-in, `statusServer` option).
export { StatusServer } from './status/index.js';
export type { BreakerView, ComponentView, RecoveryAttemptView, RecoveryView, StatusServerOptions, StatusSnapshot, StatusSource } from './status/index.js';
export type { SdkConfigLike } from './sdkConfig.js';
export { optionsFromEnv } from './env.js';
export {
  HttpBreakerInstrumentation,
  UndiciBreakerInstrumentation,
} from '../instrumentations/index.js';
export type { BreakerRuntime, HttpBreakerOptions, HttpDestination, HttpOutcome } from '../instrumentations/index.js';
export { BreakerTelemetry, RedactingSpanProcessor } from './telemetry/index.js';
export type { RedactionOptions } from './telemetry/index.js';
export {
  CheckRunner,
  ComponentHealthMonitor,
  DEFAULT_THRESHOLDS,
  HealthCheckTimeoutError,
  HealthMonitor,
  HealthSpanProcessor,
  RecordingSampler,
  httpCheck,
  tcpCheck,
} from './health/index.js';
export type {
  Alert,
  AlertSeverity,
  AnomalyEvent,
  CheckResult,
  ComponentHealth,
  ComponentHealthMonitorOptions,
  HealthChange,
  HealthCheck,
  HealthLevel,
  HealthMetrics,
  HealthMonitorOptions,
  HealthStatus,
  HealthThresholds,
  HttpCheckOptions,
  LevelThresholds,
  Prediction,
  SystemHealth,
  SystemSignal,
} from './health/index.js';
export { MetricsCollector, createAnomalyDetector, createSdkMetricsBridge } from './metrics/index.js';
export type {
  AggregatedMetric,
  AnomalyDetectorOptions,
  AnomalyResult,
  MetricDataPoint,
  MetricTags,
  MetricTrend,
  MetricType,
  MetricsCollectorOptions,
  SdkMetricsBridge,
  SdkMetricsBridgeOptions,
} from './metrics/index.js';
// Adaptive configuration (spec 2.5). Exported from here, not from config/index.ts, which the
// breaker imports (the adaptive manager imports the breaker: no cycle this way).
export { AdaptiveConfigManager, REDACTED, bindBreakers, breakerParameters } from './config/adaptive/index.js';
export type {
  AdaptiveConfig,
  AdaptiveConfigOptions,
  BreakerBindingOptions,
  ConfigChange,
  ConfigChangeEvent,
  ConfigSignal,
  ConfigSource,
  ConfigValue,
  ParameterConstraint,
} from './config/adaptive/index.js';
export type { Chromosome, Gene } from './optimizer/types.js';
// Recovery (spec 2.4).
export {
  DEFAULT_PLAN,
  DependencyCycleError,
  DuplicateComponentError,
  HttpPoolComponent,
  RecoveryCancelledError,
  RecoveryManager,
  RecoveryTimeoutError,
  failureTypeOf,
} from './recovery/index.js';
export type {
  AttemptRecord,
  HttpPoolComponentOptions,
  RecoveryEventName,
  RecoveryEvents,
  RecoveryManagerOptions,
  RecoveryOutcome,
  RecoveryPlan,
  RecoveryResult,
  RecoveryStats,
  RecoveryStrategy,
  SelfHealingComponent,
} from './recovery/index.js';
