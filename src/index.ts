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
export type { SdkConfigLike } from './sdkConfig.js';
export { optionsFromEnv } from './env.js';
export {
  HttpBreakerInstrumentation,
  UndiciBreakerInstrumentation,
} from '../instrumentations/index.js';
export type { BreakerRuntime, HttpBreakerOptions, HttpDestination, HttpOutcome } from '../instrumentations/index.js';
export { BreakerTelemetry } from './telemetry/index.js';
