import type { z } from 'zod';
import type { Clock } from '../../clock.js';
import type { Chromosome } from '../../optimizer/types.js';

/**
 * One parameter value (spec 2.5.4 `ConfigValue`). The spec's Integer and Float are both a
 * `number` (the parameter's schema says whether it must be whole); a Duration is a number of
 * milliseconds (name such keys `...Ms` or document the unit in the schema). Numbers must be finite:
 * configurations are saved as JSON.
 */
export type ConfigValue = boolean | number | string;

/** Where a configuration came from (spec 2.5.2): startup, a change at runtime, or the optimizer. */
export type ConfigSource = 'static' | 'dynamic' | 'optimized';

export type ConfigParameters = Readonly<Record<string, ConfigValue>>;

/** A configuration version (spec 2.5.4 `AdaptiveConfig`). Frozen. */
export interface AdaptiveConfig {
  readonly parameters: ConfigParameters;
  /** When this version was applied, in ms since the epoch (from the manager's clock). */
  readonly timestamp: number;
  /** Increases by one on every applied change, rollback included; never reused, survives restarts. */
  readonly version: number;
  /** How well this version did (higher is better): a chromosome's fitness, or {@link AdaptiveConfigManager.recordEffectiveness}. */
  readonly fitnessScore?: number;
  readonly source: ConfigSource;
}

/** A configuration given whole; an {@link AdaptiveConfig} fits (its version and timestamp are ignored). */
export interface CompleteConfig {
  parameters: Readonly<Record<string, ConfigValue>>;
  /** Default `dynamic`. */
  source?: ConfigSource;
  fitnessScore?: number;
}

/**
 * A change (spec 2.5.4 `ConfigChangeType`). `add` sets a parameter that is not set, `update` one
 * that is, `remove` unsets one; `reset-to-default` restores the initial values; `apply-complete`
 * replaces every parameter (those it omits are unset); `apply-chromosome` sets the parameter each
 * gene names (those without a gene keep their value).
 */
export type ConfigChange =
  | { kind: 'add'; key: string; value: ConfigValue }
  | { kind: 'update'; key: string; value: ConfigValue }
  | { kind: 'remove'; key: string }
  | { kind: 'reset-to-default' }
  | { kind: 'apply-complete'; config: CompleteConfig }
  | { kind: 'apply-chromosome'; chromosome: Chromosome };

/** The rule for one parameter: a zod schema for its value, or the schema with options. */
export type ParameterConstraint = z.ZodType<ConfigValue> | ParameterSpec;

export interface ParameterSpec {
  /** What a valid value is, e.g. `z.number().min(0).max(1)`. Its output is what is stored. */
  schema: z.ZodType<ConfigValue>;
  /** A secret: its value never appears in notifications, logs or error messages. Default false. */
  sensitive?: boolean;
}

/** A check of the whole configuration, run before every change (e.g. one value must not exceed another). */
export type ConfigCheck = (next: ConfigParameters, previous: ConfigParameters) => void;

export interface AdaptiveConfigOptions {
  /** The static configuration: the values at startup and what `reset-to-default` restores. */
  initial: Readonly<Record<string, ConfigValue>>;
  /** One rule per parameter; a key without one is unknown and refused. */
  constraints: Readonly<Record<string, ParameterConstraint>>;
  /**
   * File that keeps the current version and the history across restarts: `start()` loads it
   * (changes made before are replaced by it), every version from then on is saved (atomically,
   * `<path>.bak` holding the previous good copy). Values are stored in clear, sensitive ones too:
   * the file is created with mode 0600. Default: nothing is saved.
   */
  persistPath?: string;
  /** Versions kept for rollback and effectiveness, the current one included. Default 100, at least 2. */
  historySize?: number;
  clock?: Clock;
}

/** Automatic rollback of a change that makes health worse. */
export interface VerifyOptions {
  /** How long after the change health is sampled again, in ms. */
  windowMs: number;
  /** The health score now, higher is better. Read before the change and after `windowMs`. */
  healthScore: () => number;
  /** How much lower the score after may be than before without a rollback. Default 0. */
  tolerance?: number;
}

export interface ApplyOptions {
  verify?: VerifyOptions;
}

/** Why a version exists. */
export type ConfigCause = ConfigChange['kind'] | 'batch' | 'initial' | 'rollback' | 'load';

/** What a health verification of a version found. */
export interface Verification {
  readonly before: number;
  readonly after?: number;
  readonly outcome: 'pending' | 'kept' | 'rolled-back' | 'superseded' | 'cancelled';
}

/** One version in the history. Values are in clear (it is for rollback); notifications redact them. */
export interface ConfigHistoryEntry extends AdaptiveConfig {
  readonly cause: ConfigCause;
  /** Keys whose value differs from the version before. */
  readonly changedKeys: readonly string[];
  readonly verification?: Verification;
}

/** Sent to subscribers after every new version. Sensitive values are replaced by {@link REDACTED}. */
export interface ConfigChangeEvent {
  readonly type: 'applied' | 'rolled-back' | 'loaded';
  /** The version before and the version now. */
  readonly from: number;
  readonly to: number;
  readonly source: ConfigSource;
  readonly cause: ConfigCause;
  readonly changedKeys: readonly string[];
  /** Old values of the changed keys; a key that was not set is absent. */
  readonly previous: ConfigParameters;
  /** New values of the changed keys; a key that is no longer set is absent. */
  readonly current: ConfigParameters;
  /** Why, for a rollback (e.g. the health score that fell). */
  readonly reason?: string;
}

/** Messages for a running manager (spec 2.5.3 `signal_sender`). */
export type ConfigSignal =
  | { kind: 'apply'; change: ConfigChange | readonly ConfigChange[]; verify?: VerifyOptions }
  | { kind: 'rollback'; version?: number }
  | { kind: 'persist' }
  | { kind: 'reload' };

/** How a signal went; a signal never rejects. */
export type SignalOutcome = { ok: true; config: AdaptiveConfig } | { ok: false; error: unknown };
