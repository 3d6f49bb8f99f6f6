import { diag } from '@opentelemetry/api';
import { z } from 'zod';
import { systemClock, type Clock } from '../clock.js';
import { parseOptions } from '../config/index.js';
import { Listeners, type Disposer } from '../disposer.js';
import { CheckRunner, type CheckResult, type CheckRunnerStats, type HealthCheck } from './checks/index.js';
import { clockSchema, intervalMsSchema, timeoutMsSchema } from './checks/options.js';
import { classify, DEFAULT_THRESHOLDS, Hysteresis, resolveThresholds } from './classify.js';
import { BoundedHistory } from './history.js';
import type { HealthChange, HealthMetrics, HealthStatus, HealthThresholds, SystemSignal } from './types.js';

/** Options of a {@link ComponentHealthMonitor}; every field is optional. */
export interface ComponentHealthMonitorOptions {
  /** Time between two checks, ms. Default 10000. */
  intervalMs?: number;
  /** Time a check may take before it counts as failed, ms. Default 100 (spec 2.2.5). */
  timeoutMs?: number;
  /** Levels the metrics a check returns are classified with, laid over the defaults field by field. */
  thresholds?: Partial<HealthThresholds>;
  /** Readings kept by `healthHistory()` and `metricsHistory()`. Default 100. */
  historySize?: number;
  /** Readings in a row that change the status. Defaults: 2 to worsen (a failed reading counts double), 3 to recover. */
  hysteresis?: { toWorsen?: number; toRecover?: number };
  /** Source of timestamps and durations. Default `Date.now`. */
  clock?: Clock;
}

const streak = (hint: string) =>
  z
    .number({ error: `must be a whole number of readings (${hint})` })
    .int({ error: `must be a whole number of readings (${hint})` })
    .min(1, { error: `must be at least 1 reading (${hint})` })
    .max(1_000, { error: 'must be at most 1000 readings' });

const optionsSchema = z
  .object({
    intervalMs: intervalMsSchema.optional(),
    timeoutMs: timeoutMsSchema.optional(),
    thresholds: z.unknown().optional(), // checked by resolveThresholds, which names the field
    historySize: z
      .number({ error: 'must be a whole number of readings (e.g. 100)' })
      .int({ error: 'must be a whole number of readings (e.g. 100)' })
      .min(1, { error: 'must be at least 1 reading' })
      .max(100_000, { error: 'must be at most 100000 readings' })
      .optional(),
    hysteresis: z
      .object({ toWorsen: streak('e.g. 2').optional(), toRecover: streak('e.g. 3').optional() })
      .strict()
      .optional(),
    clock: clockSchema.optional(),
  })
  .strict();

const nameSchema = z.string({ error: 'must be a non-empty string' }).min(1, { error: 'must be a non-empty string' });

const signalSchema = z.discriminatedUnion(
  'kind',
  [
    z.object({ kind: z.literal('check-health') }),
    z.object({ kind: z.literal('component-updated'), component: z.string({ error: 'must be the name of the component' }) }),
    z.object({ kind: z.literal('adjust-monitor-rate'), intervalMs: intervalMsSchema }),
    z.object({ kind: z.literal('update-alert-thresholds'), thresholds: z.unknown() }),
    z.object({ kind: z.literal('shutdown') }),
  ],
  { error: "must be one of 'check-health', 'component-updated', 'adjust-monitor-rate', 'update-alert-thresholds', 'shutdown'" },
);

/**
 * Watches one component by running its {@link HealthCheck} on an interval (spec 2.2.3). Each
 * result is a reading: a status the check gave, or its metrics classified with the thresholds, or
 * failed for `false`, an error or a timeout. Readings go through {@link Hysteresis}, so one bad
 * reading among good ones moves nothing; `status` and `onChange` report the filtered status,
 * `healthHistory()` the readings themselves.
 */
export class ComponentHealthMonitor implements AsyncDisposable {
  readonly name: string;
  private readonly clock: Clock;
  private readonly runner: CheckRunner;
  private readonly hysteresis: Hysteresis;
  private readonly readings: BoundedHistory<HealthStatus>;
  private readonly samples: BoundedHistory<HealthMetrics>;
  private readonly changes: Listeners<HealthChange>;
  private limits: HealthThresholds;
  private started = false;
  /** The last signal queued: each signal is handled after the one before it. */
  private tail: Promise<void> = Promise.resolve();
  private sender: ((s: SystemSignal) => void) | undefined;

  constructor(name: string, check: HealthCheck, options: ComponentHealthMonitorOptions = {}) {
    this.name = parseOptions(nameSchema, name, 'health.name');
    const o = parseOptions(optionsSchema, options, 'health');
    this.limits = resolveThresholds(o.thresholds, DEFAULT_THRESHOLDS, 'health.thresholds');
    this.hysteresis = new Hysteresis(o.hysteresis?.toWorsen ?? 2, o.hysteresis?.toRecover ?? 3);
    this.readings = new BoundedHistory(o.historySize ?? 100);
    this.samples = new BoundedHistory(o.historySize ?? 100);
    this.clock = o.clock ?? systemClock;
    this.changes = new Listeners((err) => diag.error(`otel-self-heal: a health-change listener of "${this.name}" threw`, err));
    this.runner = new CheckRunner(check, (r) => this.record(r), {
      intervalMs: o.intervalMs,
      timeoutMs: o.timeoutMs,
      clock: this.clock,
      classify: (m) => classify(m, this.limits),
    });
  }

  /** The status after hysteresis: healthy until readings say otherwise. */
  get status(): HealthStatus {
    return this.hysteresis.status;
  }

  /** The thresholds metrics are classified with now. */
  get thresholds(): HealthThresholds {
    return this.limits;
  }

  /** Time between two checks, ms. */
  get intervalMs(): number {
    return this.runner.intervalMs;
  }

  /** True between `start()` and `stop()` (or a `shutdown` signal). */
  get running(): boolean {
    return this.started;
  }

  /** Runs, skipped runs (a check still in flight), timeouts, last duration. */
  get stats(): CheckRunnerStats {
    return this.runner.stats;
  }

  /** Starts checking, the first check now; resolves once its reading is in. No-op when running. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.runner.start();
  }

  /**
   * Stops checking: the check in flight is aborted and its result dropped, signals already sent
   * are handled (a stopped monitor runs no check for them), and no timer is left. Can be started again.
   */
  async stop(): Promise<void> {
    await this.halt();
    await this.tail;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /**
   * Queues a signal; signals are handled one at a time in the order sent. Throws a
   * `ConfigValidationError` at once for a malformed signal (`signal.intervalMs must be ...`).
   * Resolves when this signal has been handled:
   * - `check-health`: a check now (or the result of the one in flight), when running;
   * - `component-updated` naming this component: waits for the check in flight, forgets the
   *   readings counted toward a change, then checks now (when running); other names are ignored;
   * - `adjust-monitor-rate`: the next check is `intervalMs` from now, and so on;
   * - `update-alert-thresholds`: laid over the current thresholds, for the next readings;
   * - `shutdown`: as `stop()`.
   */
  signal(s: SystemSignal): Promise<void> {
    parseOptions(signalSchema, s, 'signal');
    if (s.kind === 'update-alert-thresholds') resolveThresholds(s.thresholds, this.limits, 'signal.thresholds'); // fail now, not later
    const handled = this.tail.then(() => this.handle(s)).catch((err: unknown) => {
      diag.error(`otel-self-heal: handling a ${s.kind} signal of "${this.name}" failed`, err);
    });
    this.tail = handled;
    return handled;
  }

  /** `signal`, bound, for whoever only sends (spec `signal_sender`). */
  signalSender(): (s: SystemSignal) => void {
    return (this.sender ??= (s) => void this.signal(s));
  }

  /** The readings, oldest first (at most `historySize`): what each check said, before hysteresis. */
  healthHistory(): HealthStatus[] {
    return this.readings.toArray();
  }

  /**
   * The metrics of each reading, oldest first, index for index with `healthHistory()`. For a
   * check that returns a status or a boolean, `{ timestamp, responseTime }` with the check's duration.
   */
  metricsHistory(): HealthMetrics[] {
    return this.samples.toArray();
  }

  /** Called when the status (after hysteresis) moves to another level. */
  onChange(listener: (change: HealthChange) => void): Disposer {
    return this.changes.add(listener);
  }

  private async handle(s: SystemSignal): Promise<void> {
    switch (s.kind) {
      case 'check-health':
        if (this.started) await this.runner.runNow();
        return;
      case 'component-updated':
        if (s.component !== this.name) return;
        await this.runner.settled(); // a reading of the old version is not held against the new one
        this.hysteresis.reset();
        if (this.started) await this.runner.runNow();
        return;
      case 'adjust-monitor-rate':
        this.runner.setInterval(s.intervalMs);
        return;
      case 'update-alert-thresholds':
        this.limits = resolveThresholds(s.thresholds, this.limits, 'signal.thresholds');
        return;
      case 'shutdown':
        await this.halt();
        return;
    }
  }

  /** Stops the runner without waiting for the signal queue (the `shutdown` signal is in it). */
  private async halt(): Promise<void> {
    this.started = false;
    await this.runner.stop();
  }

  private record(r: CheckResult): void {
    const metrics = r.metrics ?? { timestamp: r.timestamp, responseTime: r.durationMs };
    this.readings.push(r.status);
    this.samples.push(metrics);
    const from = this.hysteresis.status;
    const to = this.hysteresis.update(r.status);
    if (to.kind !== from.kind && this.changes.size > 0) {
      this.changes.emit({ component: this.name, from, to, metrics, timestamp: this.clock.now() });
    }
  }
}
