export { RecoveryManager } from './RecoveryManager.js';
export type { RecoveryManagerOptions } from './options.js';
export { DEFAULT_PLAN, resolvePlan, resolvePlans } from './plan.js';
export { FAILURE_TYPES, failureTypeOf } from './failureType.js';
export {
  DEPENDENCY_CYCLE_CODE,
  DUPLICATE_COMPONENT_CODE,
  DependencyCycleError,
  DuplicateComponentError,
  RECOVERY_CANCELLED_CODE,
  RecoveryCancelledError,
  RECOVERY_TIMEOUT_CODE,
  RecoveryTimeoutError,
} from './errors.js';
export { STRATEGIES } from './types.js';
export type {
  AttemptRecord,
  BreakerLookup,
  HealthSource,
  Hold,
  OutcomeKind,
  OutcomeReason,
  RecoveryEventName,
  RecoveryEvents,
  RecoveryOutcome,
  RecoveryPlan,
  RecoveryRequestOptions,
  RecoveryResult,
  RecoveryStats,
  RecoveryStrategy,
  RecoveryTrigger,
  ResolvedRecoveryPlan,
  SelfHealingComponent,
  StrategyStat,
  Undo,
  Verification,
} from './types.js';
export { DbPoolComponent, HttpPoolComponent } from './components/index.js';
export type { Drain, HttpPoolComponentOptions, PoolRestart } from './components/index.js';
