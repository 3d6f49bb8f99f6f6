import { diag } from '@opentelemetry/api';
import { systemClock, type Clock } from '../clock.js';
import { parseOptions } from '../config/index.js';
import { disposer, Listeners, type Disposer } from '../disposer.js';
import type { HealthChange, HealthLevel, HealthStatus } from '../health/index.js';
import { ComponentRegistry } from './ComponentRegistry.js';

const SEVERITY: Readonly<Record<HealthLevel, number>> = { healthy: 0, degraded: 1, critical: 2, failed: 3 };
import { ConcurrencyGate } from './ConcurrencyGate.js';
import { RecoveryCancelledError } from './errors.js';
import { failureTypeOf } from './failureType.js';
import { managerOptionsSchema, type RecoveryManagerOptions } from './options.js';
import { chainOf, PlanTable } from './plan.js';
import { Recovery, supports, type RecoveryHost, type RecoverySettings } from './Recovery.js';
import { StrategyStats } from './StrategyStats.js';
import type {
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
  RecoveryStats,
  RecoveryTrigger,
  ResolvedRecoveryPlan,
  SelfHealingComponent,
} from './types.js';

interface InFlight {
  readonly promise: Promise<RecoveryOutcome>;
  readonly abort: (reason: RecoveryCancelledError) => void;
}

const EMPTY_OUTCOMES = (): Record<OutcomeKind, number> => ({ recovered: 0, escalated: 0, 'manual-intervention': 0, skipped: 0, cancelled: 0 });

/**
 * Spec 2.4 Recovery Manager. Components register with the strategies they support; plans say
 * which strategies to try per failure type. Attached to a health monitor, a component going
 * `failed` or `critical` starts its recovery at once (spec 3.3.2); `requestRecovery` does the same
 * by hand. One recovery per component at a time: a request for a component under recovery joins
 * it and resolves with its outcome (`joined: true`). At most `maxConcurrent` recoveries act at
 * once; a component waits for the recoveries of what it depends on. Every decision is an event,
 * for telemetry; nothing here makes spans or metrics.
 */
export class RecoveryManager implements AsyncDisposable {
  private readonly components = new ComponentRegistry();
  private readonly planTable = new PlanTable();
  private readonly inFlight = new Map<string, InFlight>();
  private readonly holds = new Map<string, Hold>();
  private readonly sources = new Set<HealthSource>();
  private readonly detachers = new Set<Disposer>();
  private readonly events = new Map<RecoveryEventName, Listeners<never>>();
  private readonly stats_ = new StrategyStats();
  private readonly outcomes = EMPTY_OUTCOMES();
  private readonly attempts: AttemptRecord[] = [];
  private readonly settings: RecoverySettings;
  private readonly gate: ConcurrencyGate;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly exploration: number;
  private readonly triggerOn: ReadonlySet<HealthLevel>;
  private readonly historySize: number;
  private readonly failureType: (status: HealthStatus) => string;
  private readonly host: RecoveryHost;
  private running = false;

  constructor(
    options: RecoveryManagerOptions = {},
    private readonly deps: { breakers?: BreakerLookup } = {},
  ) {
    const o = parseOptions(managerOptionsSchema, options, 'recovery') as RecoveryManagerOptions;
    if (o.plans !== undefined) this.planTable.addAll(o.plans);
    this.settings = {
      verifyWindowMs: o.verifyWindowMs ?? 2_000,
      verifyIntervalMs: o.verifyIntervalMs ?? 100,
      recoveredAt: o.recoveredAt ?? 'degraded',
      actionTimeoutMs: o.actionTimeoutMs ?? 5_000,
      jitter: o.jitter ?? 0.5,
      maxRetryDelayMs: o.maxRetryDelayMs ?? 30_000,
      startJitterMs: o.startJitterMs ?? 0,
    };
    this.gate = new ConcurrencyGate(o.maxConcurrent ?? 4);
    this.clock = o.clock ?? systemClock;
    this.random = o.random ?? Math.random;
    this.exploration = o.exploration ?? 0.1;
    this.triggerOn = new Set(o.triggerOn ?? ['failed', 'critical']);
    this.historySize = o.historySize ?? 1_000;
    this.failureType = o.failureType ?? failureTypeOf;
    this.host = this.makeHost();
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Accepts requests and health triggers; components already failing on an attached monitor start recovering. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.catchUp([...this.components.names()]);
  }

  /**
   * Refuses new requests, aborts every recovery under way (their sleeps, slot waits and the
   * actions' signals) and resolves once each has settled, as `cancelled`. No timer is left.
   * Components, plans, holds, statistics and attachments stay: `start()` resumes.
   */
  async stop(): Promise<void> {
    this.running = false;
    const pending = [...this.inFlight.values()];
    for (const f of pending) f.abort(new RecoveryCancelledError('stopped'));
    await Promise.all(pending.map((f) => f.promise));
  }

  /** `stop()`, then detaches every health source and drops every listener. */
  async close(): Promise<void> {
    await this.stop();
    for (const d of [...this.detachers]) d();
    for (const l of this.events.values()) l.clear();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Makes `component` recoverable. Throws a ConfigValidationError for a malformed component, a
   * DuplicateComponentError for a name in use and a DependencyCycleError when its `dependsOn`
   * closes a cycle; nothing changes then. The disposer unregisters it (cancelling its recovery).
   */
  register(component: SelfHealingComponent): Disposer {
    this.components.add(component);
    this.catchUp([component.name]);
    return disposer(() => {
      if (!this.components.remove(component)) return;
      this.holds.delete(component.name);
      this.inFlight.get(component.name)?.abort(new RecoveryCancelledError('unregistered'));
    });
  }

  /** Adds (or replaces) the plan for its failure type; validated first, so a bad plan changes nothing. */
  /** The registered component of that name (the plugin registers one per guarded HTTP and database destination). */
  component(name: string): SelfHealingComponent | undefined {
    return this.components.get(name);
  }

  addPlan(plan: RecoveryPlan): ResolvedRecoveryPlan {
    return this.planTable.add(plan);
  }

  /** Adds several plans, all or none. */
  addPlans(plans: RecoveryPlan[]): ResolvedRecoveryPlan[] {
    return this.planTable.addAll(plans);
  }

  /** Recoveries under way keep the plan they started with. */
  removePlan(failureType: string): boolean {
    return this.planTable.remove(failureType);
  }

  plans(): ResolvedRecoveryPlan[] {
    return this.planTable.list();
  }

  /** The plan a failure type gets: its own, else the `*` plan, else the built-in default. */
  planFor(failureType: string): ResolvedRecoveryPlan {
    return this.planTable.for(failureType);
  }

  /**
   * Spec `request_recovery`. Resolves with the outcome once the recovery ends; never rejects.
   * Skipped at once when the manager is not running, the component is unknown or on hold.
   */
  requestRecovery(component: string, failureType: string, status: HealthStatus, options: RecoveryRequestOptions = {}): Promise<RecoveryOutcome> {
    const trigger: RecoveryTrigger = {
      status,
      detectedAt: options.detectedAt ?? this.clock.now(),
      source: 'request',
      ...(options.change ? { change: options.change } : {}),
    };
    return this.request(component, failureType, trigger);
  }

  /** Lifts the manual-intervention hold of `component`. False when it was not held. */
  acknowledge(component: string): boolean {
    const hold = this.holds.get(component);
    if (!hold) return false;
    this.holds.delete(component);
    this.emit('acknowledged', { component, heldSince: hold.since, timestamp: this.clock.now() });
    this.catchUp([component]); // still failing: automatic recovery resumes now, not at the next change
    return true;
  }

  held(): Hold[] {
    return [...this.holds.values()];
  }

  /**
   * Recovers registered components when `health` reports them at a trigger level (while
   * running), and verifies actions against it when a component has no `checkHealth`.
   */
  attach(health: HealthSource): Disposer {
    // Only a change for the worse triggers: failed -> critical is an improvement, not a new fault.
    // critical -> failed during a recovery triggers again, and joins it.
    const off = health.onChange((change) => {
      if (this.triggerOn.has(change.to.kind) && SEVERITY[change.to.kind] > SEVERITY[change.from.kind]) this.fromHealth(change.component, change.to, change);
    });
    this.sources.add(health);
    this.catchUp([...this.components.names()]);
    const d = disposer(() => {
      off();
      this.sources.delete(health);
      this.detachers.delete(d);
    });
    this.detachers.add(d);
    return d;
  }

  on<E extends RecoveryEventName>(event: E, listener: (e: RecoveryEvents[E]) => void): Disposer {
    let l = this.events.get(event) as Listeners<RecoveryEvents[E]> | undefined;
    if (!l) {
      l = new Listeners<RecoveryEvents[E]>((err) => diag.error(`otel-self-heal: a recovery "${event}" listener threw`, err));
      this.events.set(event, l as unknown as Listeners<never>);
    }
    return l.add(listener);
  }

  /** Success rates per strategy and failure type, outcome counts, recoveries under way and holds. */
  stats(): RecoveryStats {
    return { strategies: this.stats_.list(), outcomes: { ...this.outcomes }, inFlight: this.inFlight.size, onHold: [...this.holds.keys()] };
  }

  /** The last `historySize` attempts, oldest first, optionally of one component. */
  history(component?: string): AttemptRecord[] {
    return component === undefined ? [...this.attempts] : this.attempts.filter((a) => a.component === component);
  }

  /** Recovers those of `names` an attached monitor already reports at a trigger level: no change will come to say so. */
  private catchUp(names: string[]): void {
    if (!this.running) return;
    for (const name of names) {
      const status = this.statusOf(name);
      if (status && this.triggerOn.has(status.kind)) this.fromHealth(name, status, undefined);
    }
  }

  private fromHealth(name: string, status: HealthStatus, change: HealthChange | undefined): void {
    if (!this.running || !this.components.has(name) || this.holds.has(name)) return;
    const trigger: RecoveryTrigger = { status, detectedAt: change?.timestamp ?? this.clock.now(), source: 'health', ...(change ? { change } : {}) };
    void this.request(name, this.failureType(status), trigger);
  }

  private skip(component: string, failureType: string, reason: OutcomeReason, detail: string): Promise<RecoveryOutcome> {
    this.outcomes.skipped++;
    const now = this.clock.now();
    return Promise.resolve({ component, failureType, outcome: 'skipped', reason, detail, attempts: [], rolledBack: false, requestedAt: now, durationMs: 0 });
  }

  private request(name: string, failureType: string, trigger: RecoveryTrigger): Promise<RecoveryOutcome> {
    const current = this.inFlight.get(name);
    if (current) return current.promise.then((o) => ({ ...o, joined: true }));
    if (!this.running) return this.skip(name, failureType, 'not-running', 'the recovery manager is not running: call start()');
    const component = this.components.get(name);
    if (!component) return this.skip(name, failureType, 'unknown-component', `no component named "${name}" is registered`);
    if (this.holds.has(name)) return this.skip(name, failureType, 'on-hold', `"${name}" waits for manual intervention: acknowledge("${name}") first`);

    const requestedAt = this.clock.now();
    const plan = this.planFor(failureType);
    const automatic = chainOf(plan).filter((s) => s !== 'manual-intervention' && supports(component, s));
    const { strategies, explored } = this.stats_.order(automatic, failureType, this.exploration, this.random);
    strategies.push('manual-intervention');
    const controller = new AbortController();
    const recovery = new Recovery(this.host, component, failureType, plan, strategies, trigger, controller.signal, requestedAt);
    // Started a microtask later: the entry is in place (a listener's request joins it) and
    // recovery-started comes before anything the run emits.
    const promise: Promise<RecoveryOutcome> = Promise.resolve()
      .then(() => recovery.run())
      .finally(() => {
        if (this.inFlight.get(name)?.promise === promise) this.inFlight.delete(name);
      });
    this.inFlight.set(name, { promise, abort: (reason) => controller.abort(reason) });
    this.emit('recovery-started', {
      component: name,
      failureType,
      trigger,
      metadata: plan.metadata,
      timestamp: requestedAt,
      plan: plan.failureType,
      strategies,
      explored,
    });
    return promise;
  }

  private emit<E extends RecoveryEventName>(name: E, event: RecoveryEvents[E]): void {
    (this.events.get(name) as Listeners<RecoveryEvents[E]> | undefined)?.emit(event);
  }

  private statusOf(name: string): HealthStatus | undefined {
    for (const s of this.sources) {
      const c = s.component(name);
      if (c) return c.status;
    }
    return undefined;
  }

  private makeHost(): RecoveryHost {
    return {
      clock: this.clock,
      random: this.random,
      settings: this.settings,
      gate: this.gate,
      stats: this.stats_,
      emit: (name, event) => this.emit(name, event),
      sourceFor: (name) => {
        for (const s of this.sources) if (s.component(name)) return s;
        return undefined;
      },
      isHeld: (name) => this.holds.has(name),
      hold: (name, failureType, trigger, attempts) => {
        if (this.components.has(name)) this.holds.set(name, { component: name, since: this.clock.now(), failureType, trigger, attempts });
      },
      dependenciesOf: (name) => this.components.dependenciesOf(name),
      recoveryOf: (dep, requestedBy) => {
        const current = this.inFlight.get(dep);
        if (current) return current.promise;
        const status = this.statusOf(dep);
        if (!status || !this.triggerOn.has(status.kind) || !this.running) return undefined;
        return this.request(dep, this.failureType(status), { status, detectedAt: this.clock.now(), source: 'dependency', requestedBy });
      },
      recordAttempt: (record) => {
        if (this.historySize === 0) return;
        this.attempts.push(record);
        if (this.attempts.length > this.historySize) this.attempts.shift();
      },
      completed: (outcome) => {
        this.outcomes[outcome.outcome]++;
        if (outcome.outcome !== 'recovered') return;
        try {
          this.deps.breakers?.find(outcome.component)?.probeNow();
        } catch (err) {
          diag.error(`otel-self-heal: letting the breaker of "${outcome.component}" probe failed`, err);
        }
      },
    };
  }
}
