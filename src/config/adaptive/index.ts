export { AdaptiveConfigManager } from './AdaptiveConfigManager.js';
export { bindBreakers, breakerParameters } from './breakers.js';
export type { BreakerBindingOptions } from './breakers.js';
export { REDACTED } from './ParameterRules.js';
export type {
  AdaptiveConfig,
  AdaptiveConfigOptions,
  ApplyOptions,
  CompleteConfig,
  ConfigCause,
  ConfigChange,
  ConfigChangeEvent,
  ConfigCheck,
  ConfigHistoryEntry,
  ConfigParameters,
  ConfigSignal,
  ConfigSource,
  ConfigValue,
  ParameterConstraint,
  ParameterSpec,
  SignalOutcome,
  Verification,
  VerifyOptions,
} from './types.js';
