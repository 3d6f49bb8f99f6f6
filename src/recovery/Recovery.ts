import { diag } from '@opentelemetry/api';
import type { Clock } from '../clock.js';
import type { HealthLevel, HealthStatus } from '../health/index.js';
import type { ConcurrencyGate } from './ConcurrencyGate.js';
import { RecoveryCancelledError, RecoveryTimeoutError } from './errors.js';
import type { StrategyStats } from './StrategyStats.js';
import { backoffDelay, linkedController, messageOf, raceAbort, sleep } from './timing.js';
import type {
  AttemptRecord,
  HealthSource,
  OutcomeKind,
  OutcomeReason,
  RecoveryEventName,
  RecoveryEvents,
  RecoveryOutcome,
  RecoveryResult,
  RecoveryStrategy,
  RecoveryTrigger,
  ResolvedRecoveryPlan,
  SelfHealingComponent,
  Undo,
  Verification,
} from './types.js';
import { runCheck, verify } from './verify.js';

/** The manager's settings a recovery reads. */
export interface RecoverySettings {
  readonly verifyWindowMs: number;
  readonly verifyIntervalMs: number;
  readonly recoveredAt: HealthLevel;
  readonly actionTimeoutMs: number;
  readonly jitter: number;
  readonly maxRetryDelayMs: number;
  readonly startJitterMs: number;
}

/** What a recovery needs of its manager. */
export interface RecoveryHost {
  readonly clock: Clock;
  readonly random: () => number;
  readonly settings: RecoverySettings;
  readonly gate: ConcurrencyGate;
  readonly stats: StrategyStats;
  emit<E extends RecoveryEventName>(name: E, event: RecoveryEvents[E]): void;
  /** The attached monitor that knows `name`, if any. */
  sourceFor(name: string): HealthSource | undefined;
  isHeld(name: string): boolean;
  hold(name: string, failureType: string, trigger: RecoveryTrigger, attempts: readonly RecoveryResult[]): void;
  /** Registered components `name` depends on. */
  dependenciesOf(name: string): readonly string[];
  /** The recovery under way for `dep`, or one started now if health says it needs one. */
  recoveryOf(dep: string, requestedBy: string): Promise<RecoveryOutcome> | undefined;
  recordAttempt(record: AttemptRecord): void;
  completed(outcome: RecoveryOutcome): void;
}

const METHOD = { restart: 'restart', reconfigure: 'reconfigure', fallback: 'fallback', 'scale-resources': 'scale' } as const;

/** The component implements `strategy` (manual intervention needs nothing of it). */
export function supports(component: SelfHealingComponent, strategy: RecoveryStrategy): boolean {
  return strategy === 'manual-intervention' || typeof component[METHOD[strategy]] === 'function';
}

function invoke(component: SelfHealingComponent, strategy: Exclude<RecoveryStrategy, 'manual-intervention'>, signal: AbortSignal): Promise<void | Undo> {
  // Called as a method, so that class-based components keep their `this`.
  return Promise.resolve().then(() => component[METHOD[strategy]]!(signal));
}

const BLOCKING: ReadonlySet<OutcomeKind> = new Set(['manual-intervention', 'escalated', 'cancelled']);

/**
 * One recovery of one component (spec 3.3.2): wait for the recoveries of what it depends on, take
 * a slot under the global cap, then try the strategies in order, each up to `1 + maxRetries`
 * times with backoff, verifying each action against health and rolling it back if health got
 * worse; manual intervention ends the chain. Never rejects.
 */
export class Recovery {
  private readonly attempts: RecoveryResult[] = [];
  private rolledBack = false;
  private attemptNo = 0;
  /** The latest status known: the trigger's, then each verification's. */
  private last: HealthStatus;

  constructor(
    private readonly host: RecoveryHost,
    private readonly component: SelfHealingComponent,
    private readonly failureType: string,
    private readonly plan: ResolvedRecoveryPlan,
    private readonly strategies: readonly RecoveryStrategy[],
    private readonly trigger: RecoveryTrigger,
    private readonly signal: AbortSignal,
    private readonly requestedAt: number,
  ) {
    this.last = trigger.status;
  }

  async run(): Promise<RecoveryOutcome> {
    try {
      const { blocked, waited } = await this.awaitDependencies();
      if (blocked) return this.end('escalated', 'dependency-not-recovered', blocked);
      if (waited && (await this.healthyNow())) {
        return this.end('skipped', 'recovered-with-dependency', 'healthy again once its dependencies recovered');
      }
      await this.host.gate.acquire(this.signal);
      try {
        const { startJitterMs } = this.host.settings;
        if (startJitterMs > 0) await sleep(Math.round(this.host.random() * startJitterMs), this.signal);
        for (const strategy of this.strategies) {
          if (strategy === 'manual-intervention') break;
          for (let retry = 0; retry <= this.plan.maxRetries; retry++) {
            const s = this.host.settings;
            const delayMs = backoffDelay(retry, this.plan.retryDelayMs, this.plan.backoffMultiplier, s.jitter, s.maxRetryDelayMs, this.host.random);
            await sleep(delayMs, this.signal);
            if (await this.attempt(strategy, retry, delayMs)) return this.end('recovered');
          }
        }
        return this.holdForPerson();
      } finally {
        this.host.gate.release();
      }
    } catch (err) {
      if (this.signal.aborted) {
        const reason = this.signal.reason instanceof RecoveryCancelledError ? this.signal.reason.reason : 'stopped';
        return this.end('cancelled', reason, messageOf(this.signal.reason));
      }
      diag.error(`otel-self-heal: the recovery of "${this.component.name}" failed unexpectedly`, err);
      return this.end('escalated', 'internal-error', messageOf(err));
    }
  }

  private base() {
    return {
      component: this.component.name,
      failureType: this.failureType,
      trigger: this.trigger,
      metadata: this.plan.metadata,
      timestamp: this.host.clock.now(),
    };
  }

  private statusNow(): HealthStatus {
    return this.host.sourceFor(this.component.name)?.component(this.component.name)?.status ?? this.last;
  }

  /** Waits for the recoveries of every dependency at once; a dependency that did not recover blocks this one. */
  private async awaitDependencies(): Promise<{ blocked?: string; waited: boolean }> {
    const name = this.component.name;
    const waits: Array<Promise<[string, RecoveryOutcome]>> = [];
    for (const dep of this.host.dependenciesOf(name)) {
      if (this.host.isHeld(dep)) return { blocked: `dependency "${dep}" waits for manual intervention`, waited: false };
      const p = this.host.recoveryOf(dep, name);
      if (p) waits.push(p.then((o) => [dep, o]));
    }
    if (waits.length === 0) return { waited: false };
    for (const [dep, o] of await raceAbort(Promise.all(waits), this.signal)) {
      if (BLOCKING.has(o.outcome)) return { blocked: `dependency "${dep}" did not recover (${o.outcome})`, waited: true };
    }
    return { waited: true };
  }

  /** After its dependencies recovered, the component may be fine: asked first-hand, never from the monitor's lagging view. */
  private async healthyNow(): Promise<boolean> {
    if (!this.component.checkHealth) return false;
    const s = await runCheck(this.component, this.host.settings.actionTimeoutMs, this.signal);
    return s.kind === 'healthy' || (this.host.settings.recoveredAt === 'degraded' && s.kind === 'degraded');
  }

  /** One action, its verification and, if health got worse, its rollback. True when verified. */
  private async attempt(strategy: Exclude<RecoveryStrategy, 'manual-intervention'>, retry: number, delayMs: number): Promise<boolean> {
    const s = this.host.settings;
    // "Worse than before" must compare readings of one source: an action that can be undone is
    // judged by checkHealth after it, so checkHealth gives its baseline too. A restart cannot be
    // undone and goes without (its start is what the 200 ms budget is about).
    const before =
      strategy !== 'restart' && this.component.checkHealth ? await runCheck(this.component, s.actionTimeoutMs, this.signal) : this.statusNow();
    const attempt = ++this.attemptNo;
    const timestamp = this.host.clock.now();
    this.host.emit('attempt-started', { ...this.base(), timestamp, strategy, attempt, retry, delayMs, before });
    let error: string | undefined;
    let undo: Undo | undefined;
    let verification: Verification | undefined;
    let rolledBack = false;
    const link = linkedController(this.signal, s.actionTimeoutMs, () => new RecoveryTimeoutError(s.actionTimeoutMs));
    try {
      const returned = await raceAbort(invoke(this.component, strategy, link.signal), link.signal);
      if (typeof returned === 'function') undo = returned;
    } catch (err) {
      error = messageOf(err);
    } finally {
      link.dispose();
    }
    try {
      if (error === undefined && !this.signal.aborted) {
        verification = await verify(this.component, before, {
          clock: this.host.clock,
          source: this.host.sourceFor(this.component.name),
          windowMs: this.plan.verifyWindowMs ?? s.verifyWindowMs,
          intervalMs: s.verifyIntervalMs,
          checkTimeoutMs: s.actionTimeoutMs,
          recoveredAt: s.recoveredAt,
          signal: this.signal,
        });
        if (verification.status) this.last = verification.status;
        if (verification.worse && undo) rolledBack = await this.rollback(strategy, attempt, before, verification.status!, undo);
      }
    } catch (err) {
      if (!this.signal.aborted) throw err;
    }
    const cancelled = this.signal.aborted;
    if (cancelled) error = messageOf(this.signal.reason);
    else if (error === undefined && verification && !verification.verified) {
      const last = verification.status;
      error = `health did not confirm within ${this.plan.verifyWindowMs ?? s.verifyWindowMs} ms${last && last.kind !== 'healthy' ? ` (${last.kind}: ${last.reason})` : ''}`;
    }
    const success = !cancelled && error === undefined;
    const result: RecoveryResult = {
      action: strategy,
      success,
      durationMs: this.host.clock.now() - timestamp,
      timestamp,
      ...(error === undefined ? {} : { error }),
      rolledBack,
    };
    this.attempts.push(result);
    this.rolledBack ||= rolledBack;
    // A cancelled attempt says nothing about the strategy.
    if (!cancelled) this.host.stats.record(strategy, this.failureType, success, result.durationMs, rolledBack);
    this.host.recordAttempt({ component: this.component.name, failureType: this.failureType, retry, result });
    this.host.emit('attempt-finished', { ...this.base(), strategy, attempt, retry, before, result, ...(verification ? { verification } : {}) });
    if (cancelled) throw this.signal.reason;
    return success;
  }

  private async rollback(strategy: RecoveryStrategy, attempt: number, before: HealthStatus, after: HealthStatus, undo: Undo): Promise<boolean> {
    const ms = this.host.settings.actionTimeoutMs;
    const link = linkedController(this.signal, ms, () => new RecoveryTimeoutError(ms));
    let error: string | undefined;
    try {
      await raceAbort(Promise.resolve().then(() => undo(link.signal)), link.signal);
    } catch (err) {
      error = messageOf(err);
    } finally {
      link.dispose();
    }
    this.host.emit('rolled-back', { ...this.base(), strategy, attempt, before, after, success: error === undefined, ...(error === undefined ? {} : { error }) });
    if (this.signal.aborted) throw this.signal.reason;
    return error === undefined;
  }

  private holdForPerson(): RecoveryOutcome {
    const name = this.component.name;
    this.host.hold(name, this.failureType, this.trigger, this.attempts);
    const lastError = this.attempts.at(-1)?.error;
    const tried = this.attempts.length
      ? `automatic recovery ran out after ${this.attempts.length} attempt(s)${lastError ? `; last: ${lastError}` : ''}`
      : 'its plan has no automatic strategy it implements';
    const message = `${name} needs manual intervention (${this.failureType}): ${tried}. Automatic recovery is held until acknowledge("${name}").`;
    this.host.emit('manual-intervention', { ...this.base(), severity: 'critical', message, attempts: [...this.attempts] });
    return this.end('manual-intervention', undefined, message);
  }

  private end(outcome: OutcomeKind, reason?: OutcomeReason, detail?: string): RecoveryOutcome {
    const now = this.host.clock.now();
    const o: RecoveryOutcome = {
      component: this.component.name,
      failureType: this.failureType,
      outcome,
      ...(reason ? { reason } : {}),
      ...(detail ? { detail } : {}),
      attempts: [...this.attempts],
      rolledBack: this.rolledBack,
      plan: this.plan.failureType,
      requestedAt: this.requestedAt,
      durationMs: now - this.requestedAt,
    };
    this.host.completed(o);
    this.host.emit('recovery-completed', { ...this.base(), outcome: o });
    return o;
  }
}
