import type { Disposer } from '../disposer.js';
import type { HealthChange, HealthStatus } from '../health/index.js';

/** Spec 2.4.4 `RecoveryStrategy`, mildest first. */
export const STRATEGIES = ['restart', 'reconfigure', 'fallback', 'scale-resources', 'manual-intervention'] as const;
export type RecoveryStrategy = (typeof STRATEGIES)[number];

/** What an action may return to take itself back (restore the previous configuration, leave the fallback). */
export type Undo = (signal: AbortSignal) => Promise<void>;

/**
 * A component the manager can heal (the spec's `SelfHealing` trait). Every method is optional: a
 * strategy the component does not implement is passed over. Each method gets a signal that aborts
 * at the action timeout and at `stop()`; it should give up when it does.
 */
export interface SelfHealingComponent {
  /** Unique among registered components; for downstreams, the health monitor's name (`http://host:port`). */
  readonly name: string;
  /** Components this one needs: their recoveries run first, and this one waits for them. */
  readonly dependsOn?: readonly string[];
  restart?(signal: AbortSignal): Promise<void>;
  reconfigure?(signal: AbortSignal): Promise<void | Undo>;
  fallback?(signal: AbortSignal): Promise<void | Undo>;
  /** The `scale-resources` strategy. */
  scale?(signal: AbortSignal): Promise<void | Undo>;
  /** Used to verify an action; without it the attached health monitor's view is used. */
  checkHealth?(signal: AbortSignal): Promise<HealthStatus>;
}

/** Spec 2.4.4 `RecoveryPlan`, as given to `addPlan` (defaults filled in by validation). */
export interface RecoveryPlan {
  /** The failure type this plan handles (e.g. `error-rate`, `latency`), or `*` for every type without a plan of its own. */
  failureType: string;
  primary: RecoveryStrategy;
  /** Tried in order after the primary. Manual intervention always ends the chain, listed or not. Default none. */
  fallbacks?: RecoveryStrategy[];
  /** Retries of each strategy after its first try. Default 0. */
  maxRetries?: number;
  /** Wait before the first retry of a strategy, ms. Default 1000. */
  retryDelayMs?: number;
  /** Each further retry waits this many times longer. Default 2. */
  backoffMultiplier?: number;
  /** How long health has to confirm an action, ms. Default: the manager's `verifyWindowMs`. */
  verifyWindowMs?: number;
  /** Carried in every event of a recovery under this plan (e.g. a runbook URL for the alert). */
  metadata?: Record<string, string>;
}

/** A validated plan, every field present. */
export interface ResolvedRecoveryPlan {
  readonly failureType: string;
  readonly primary: RecoveryStrategy;
  readonly fallbacks: readonly RecoveryStrategy[];
  readonly maxRetries: number;
  readonly retryDelayMs: number;
  readonly backoffMultiplier: number;
  readonly verifyWindowMs: number | undefined;
  readonly metadata: Readonly<Record<string, string>>;
}

/** Spec 2.4.4 `RecoveryResult`: one attempt. */
export interface RecoveryResult {
  readonly action: RecoveryStrategy;
  /** The action completed and health confirmed it within the verification window. */
  readonly success: boolean;
  /** From the start of the action to the end of its verification (and rollback), ms. */
  readonly durationMs: number;
  /** When the attempt started (clock ms). */
  readonly timestamp: number;
  readonly error?: string;
  /** Health came back worse than before the action, and the action's undo ran. */
  readonly rolledBack: boolean;
}

export type OutcomeKind = 'recovered' | 'escalated' | 'manual-intervention' | 'skipped' | 'cancelled';

/** Why a recovery was skipped, escalated or cancelled. */
export type OutcomeReason =
  | 'not-running'
  | 'unknown-component'
  | 'on-hold'
  | 'recovered-with-dependency'
  | 'dependency-not-recovered'
  | 'stopped'
  | 'unregistered'
  | 'internal-error';

/** How one recovery ended. `requestRecovery` resolves with it and never rejects. */
export interface RecoveryOutcome {
  readonly component: string;
  readonly failureType: string;
  readonly outcome: OutcomeKind;
  readonly reason?: OutcomeReason;
  /** Words for people: what blocked or ended the recovery. */
  readonly detail?: string;
  readonly attempts: readonly RecoveryResult[];
  /** At least one attempt was rolled back. */
  readonly rolledBack: boolean;
  /** This request found the component under recovery and shares that recovery's outcome. */
  readonly joined?: boolean;
  /** The failure type of the plan used (`*` for the default plan). */
  readonly plan?: string;
  /** When the recovery was requested (clock ms) and how long it took, ms. */
  readonly requestedAt: number;
  readonly durationMs: number;
}

/** What set off a recovery: the status and, when it came from health, the change itself. */
export interface RecoveryTrigger {
  readonly status: HealthStatus;
  /** When the failure was detected (clock ms): the health change's time, or the request's. */
  readonly detectedAt: number;
  readonly source: 'health' | 'request' | 'dependency';
  /** The health change that set it off, with its metrics. */
  readonly change?: HealthChange;
  /** For `dependency`: the component whose recovery needed this one. */
  readonly requestedBy?: string;
}

/** How health answered after an action. */
export interface Verification {
  readonly verified: boolean;
  /** The last status read, if any source could be read. */
  readonly status: HealthStatus | undefined;
  /** `check`: the component's checkHealth; `monitor`: the attached health monitor; `none`: no source, the action's completion counts. */
  readonly source: 'check' | 'monitor' | 'none';
  readonly durationMs: number;
  /** Health ended worse than `before`. */
  readonly worse: boolean;
}

interface Base {
  readonly component: string;
  readonly failureType: string;
  readonly trigger: RecoveryTrigger;
  readonly metadata: Readonly<Record<string, string>>;
  readonly timestamp: number;
}

export interface RecoveryEvents {
  /** A recovery was accepted (it may still wait for its dependencies and a free slot). */
  'recovery-started': Base & { readonly plan: string; readonly strategies: readonly RecoveryStrategy[]; readonly explored: boolean };
  'attempt-started': Base & {
    readonly strategy: RecoveryStrategy;
    /** 1-based, over the whole recovery. */
    readonly attempt: number;
    /** 0 for a strategy's first try. */
    readonly retry: number;
    /** The wait before this attempt (backoff with jitter), ms. */
    readonly delayMs: number;
    readonly before: HealthStatus;
  };
  'attempt-finished': Base & {
    readonly strategy: RecoveryStrategy;
    readonly attempt: number;
    readonly retry: number;
    readonly before: HealthStatus;
    readonly result: RecoveryResult;
    /** Absent when the action itself failed. */
    readonly verification?: Verification;
  };
  'rolled-back': Base & {
    readonly strategy: RecoveryStrategy;
    readonly attempt: number;
    readonly before: HealthStatus;
    readonly after: HealthStatus;
    /** The undo completed. */
    readonly success: boolean;
    readonly error?: string;
  };
  /** Automatic recovery is over for this component until `acknowledge()`: raise a critical alert. */
  'manual-intervention': Base & {
    readonly severity: 'critical';
    readonly message: string;
    readonly attempts: readonly RecoveryResult[];
  };
  'recovery-completed': Base & { readonly outcome: RecoveryOutcome };
  'acknowledged': { readonly component: string; readonly heldSince: number; readonly timestamp: number };
}

export type RecoveryEventName = keyof RecoveryEvents;

/** What `attach` needs of a health monitor (`HealthMonitor` fits). */
export interface HealthSource {
  onChange(listener: (change: HealthChange) => void): Disposer | (() => void);
  component(name: string): { readonly status: HealthStatus } | undefined;
}

/** Successes and attempts of one strategy for one failure type. */
export interface StrategyStat {
  readonly strategy: RecoveryStrategy;
  readonly failureType: string;
  readonly attempts: number;
  readonly successes: number;
  /** successes / attempts (0 before the first attempt). */
  readonly successRate: number;
  readonly rollbacks: number;
  readonly meanDurationMs: number;
}

export interface RecoveryStats {
  readonly strategies: readonly StrategyStat[];
  /** Recoveries ended so far, by outcome. */
  readonly outcomes: Readonly<Record<OutcomeKind, number>>;
  /** Recoveries under way (waiting or acting). */
  readonly inFlight: number;
  /** Components waiting for a person to `acknowledge()` them. */
  readonly onHold: readonly string[];
}

/** One attempt in the manager's bounded history. */
export interface AttemptRecord {
  readonly component: string;
  readonly failureType: string;
  readonly retry: number;
  readonly result: RecoveryResult;
}

/** A breaker the manager lets probe at once after a verified recovery (`CircuitBreakerRegistry` fits). */
export interface BreakerLookup {
  find(name: string): { probeNow(): void } | undefined;
}

/** A component waiting for a person. */
export interface Hold {
  readonly component: string;
  readonly since: number;
  readonly failureType: string;
  readonly trigger: RecoveryTrigger;
  readonly attempts: readonly RecoveryResult[];
}

/** How `requestRecovery` was set off, when the caller knows more than the status. */
export interface RecoveryRequestOptions {
  /** When the failure was detected (clock ms). Default: now. */
  detectedAt?: number;
  /** The health change behind the request, kept as evidence in every event. */
  change?: HealthChange;
}
