import { diag } from '@opentelemetry/api';
import { linearRegression } from 'simple-statistics';
import { z } from 'zod';
import type { CircuitBreakerRegistry } from '../breaker/index.js';
import { systemClock, type Clock } from '../clock.js';
import { ConfigValidationError, parseOptions } from '../config/index.js';
import { Listeners, type Disposer } from '../disposer.js';
import { classify, Hysteresis, resolveThresholds, worse } from './classify.js';
import { ComponentHealthMonitor, type ComponentHealthMonitorOptions } from './ComponentHealthMonitor.js';
import type { HealthCheck } from './checks/index.js';
import { ComponentWindow } from './ComponentWindow.js';
import type { ComponentKind } from './componentKey.js';
import { MetricsRing } from './MetricsRing.js';
import {
  HEALTHY,
  LEVEL_VALUE,
  type Alert,
  type AlertSeverity,
  type HealthChange,
  type HealthLevel,
  type HealthMetrics,
  type HealthStatus,
  type HealthThresholds,
  type SystemSignal,
} from './types.js';

/** A per-series streaming detector (see `createAnomalyDetector`). */
export interface StreamingDetector {
  update(value: number, timestampMs: number): { score: number; anomalous: boolean };
}

export interface AnomalyEvent {
  readonly component: string;
  readonly metric: 'latency';
  readonly value: number;
  readonly score: number;
  readonly timestamp: number;
}

export interface HealthMonitorOptions {
  /** Limits per metric, over the defaults (error rate 5/25/50%, p95 1 s/5 s). */
  thresholds?: Partial<HealthThresholds>;
  /** How often span-driven components are judged, ms. Default 250. */
  evaluateEveryMs?: number;
  /** Calls the 10 s window must hold before a span-driven component is judged. Default 5. */
  minCalls?: number;
  /** Most components tracked; the rest share one `(overflow)` component. Default 1000. */
  maxComponents?: number;
  /** Readings in a row before a status worsens (a failed reading counts double) / recovers. Default 2 / 3. */
  hysteresis?: { toWorsen?: number; toRecover?: number };
  /** Per-second readings kept per component. Default 60. */
  historySize?: number;
  /** A component unseen this long is forgotten, ms. Default 600000. */
  idleTimeoutMs?: number;
  /** A downstream found `failed` opens its breaker, and lets it probe when it recovers. Default true. */
  driveBreakers?: boolean;
  /**
   * Components whose latency gets an anomaly detector (first come, first served). A detector keeps
   * ~100 KiB and costs ~60-90 µs per second of traffic, so this bounds both. Default 100.
   */
  maxAnomalyDetectors?: number;
}

const optionsSchema = z
  .object({
    thresholds: z.record(z.string(), z.unknown()).optional(),
    evaluateEveryMs: z.number().int().min(10, { error: 'must be at least 10 ms' }).optional(),
    minCalls: z.number().int().min(1, { error: 'must be a whole number of at least 1' }).optional(),
    maxComponents: z.number().int().min(1, { error: 'must be a whole number of at least 1' }).optional(),
    hysteresis: z
      .object({
        toWorsen: z.number().int().min(1, { error: 'must be at least 1' }).optional(),
        toRecover: z.number().int().min(1, { error: 'must be at least 1' }).optional(),
      })
      .strict()
      .optional(),
    historySize: z.number().int().min(2, { error: 'must be at least 2' }).optional(),
    idleTimeoutMs: z.number().min(1_000, { error: 'must be at least 1000 ms' }).optional(),
    driveBreakers: z.boolean({ error: 'must be true or false' }).optional(),
    maxAnomalyDetectors: z.number().int().min(0, { error: 'must be a whole number, 0 or more' }).optional(),
  })
  .strict();

interface Component {
  readonly name: string;
  readonly kind: ComponentKind;
  readonly window: ComponentWindow;
  readonly hysteresis: Hysteresis;
  readonly history: MetricsRing;
  readonly statuses: HealthStatus[];
  status: HealthStatus;
  metrics: HealthMetrics;
  lastSecond: number;
  detector: StreamingDetector | undefined;
  anomalyUntil: number;
  anomalyScore: number;
  latencyBaseline: number | undefined;
  /** `window.total` when the component was last judged. */
  judgedAt: number;
}

/** A component as the monitor reports it. */
export interface ComponentHealth {
  readonly name: string;
  readonly kind: ComponentKind;
  readonly status: HealthStatus;
  readonly metrics: HealthMetrics;
}

/** The whole service's health (spec 2.2.2 aggregation). */
export interface SystemHealth {
  /** Worst of the service's own routes and custom components; a failing downstream makes it at most `degraded`. */
  readonly status: HealthStatus;
  readonly counts: Readonly<Record<HealthLevel, number>>;
  readonly timestamp: number;
}

/** Expected crossing of the next threshold, from the trend over the window (spec 2.2.2 predictive monitoring). */
export interface Prediction {
  readonly metric: 'errorRate' | 'responseTime';
  readonly current: number;
  /** Units per second. */
  readonly slope: number;
  readonly level: Exclude<HealthLevel, 'healthy'>;
  readonly threshold: number;
  /** Milliseconds until the threshold is reached at the current slope. */
  readonly etaMs: number;
}

const OVERFLOW = '(overflow)';
const Z95 = 1.96;

/** Lower bound of the Wilson score interval for `k` successes in `n` trials, at 95%. */
export function wilsonLower(k: number, n: number): number {
  if (n === 0) return 0;
  const p = k / n;
  const z2 = Z95 * Z95;
  const centre = p + z2 / (2 * n);
  const spread = Z95 * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return Math.max(0, (centre - spread) / (1 + z2 / n));
}
const SEVERITY: Record<HealthLevel, AlertSeverity> = { healthy: 'info', degraded: 'warning', critical: 'critical', failed: 'critical' };
const SEVERITY_RANK: Record<AlertSeverity, number> = { info: 0, warning: 1, critical: 2 };
const ANOMALY_HOLD_MS = 10_000;

/**
 * Spec 2.2 Health Monitoring System. Passive: every call a span reports (`observe`) lands in its
 * component's 10 s window, and pushed readings (`report`) are judged as they come; one timer
 * judges the windows every `evaluateEveryMs`. Statuses pass through hysteresis, changes raise
 * alerts, and a downstream found failed opens its circuit breaker (spec 3.3.1 step 5).
 */
export class HealthMonitor {
  private readonly components = new Map<string, Component>();
  private thresholds: HealthThresholds;
  private evaluateEveryMs: number;
  private readonly o: Required<Omit<HealthMonitorOptions, 'thresholds' | 'hysteresis' | 'evaluateEveryMs'>> & {
    toWorsen: number;
    toRecover: number;
  };
  private readonly changes = new Listeners<HealthChange>((e) => diag.error('otel-self-heal: a health listener threw', e));
  private readonly alerts = new Listeners<Alert>((e) => diag.error('otel-self-heal: an alert handler threw', e));
  private readonly anomalies = new Listeners<AnomalyEvent>((e) => diag.error('otel-self-heal: an anomaly listener threw', e));
  private readonly systemStatuses: Array<{ timestamp: number; status: HealthStatus }> = [];
  private systemStatus: HealthStatus = HEALTHY;
  private timer: NodeJS.Timeout | undefined;
  private readonly clock: Clock;
  private detectors = 0;
  private readonly checks = new Map<string, { monitor: ComponentHealthMonitor; unsubscribe: Disposer }>();

  constructor(
    options: HealthMonitorOptions = {},
    private readonly deps: {
      registry?: CircuitBreakerRegistry;
      clock?: Clock;
      /** Makes the latency anomaly detector of a new component. */
      detector?: () => StreamingDetector | undefined;
    } = {},
  ) {
    const o = parseOptions(optionsSchema, options, 'health') as HealthMonitorOptions;
    this.thresholds = resolveThresholds(o.thresholds ?? {});
    this.evaluateEveryMs = o.evaluateEveryMs ?? 250;
    this.o = {
      minCalls: o.minCalls ?? 5,
      maxComponents: o.maxComponents ?? 1000,
      historySize: o.historySize ?? 60,
      idleTimeoutMs: o.idleTimeoutMs ?? 600_000,
      driveBreakers: o.driveBreakers ?? true,
      maxAnomalyDetectors: o.maxAnomalyDetectors ?? 100,
      toWorsen: o.hysteresis?.toWorsen ?? 2,
      toRecover: o.hysteresis?.toRecover ?? 3,
    };
    this.clock = deps.clock ?? systemClock;
  }

  /** Starts the evaluation timer (unref'd). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.evaluate(), this.evaluateEveryMs);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  stop(): void {
    this.stopTimer();
    for (const [name, c] of this.checks) {
      c.unsubscribe();
      void c.monitor.stop();
      this.checks.delete(name);
    }
  }

  /**
   * Active monitoring: runs `check` on an interval (with a timeout, never overlapping itself) as
   * the custom component `name`, whose status then counts in the roll-up. Replaces a check of the
   * same name; stopped with the monitor.
   */
  addCheck(name: string, check: HealthCheck, options: ComponentHealthMonitorOptions = {}): ComponentHealthMonitor {
    // Built first: bad options throw before the check it would replace is touched.
    const monitor = new ComponentHealthMonitor(name, check, { clock: this.deps.clock, thresholds: this.thresholds, ...options });
    this.removeCheck(name);
    const c = this.create(name, 'custom');
    // The check's monitor has filtered its readings already: its status is taken as it is.
    const unsubscribe = monitor.onChange((change) => {
      this.apply(c, change.to, this.clock.now(), true);
      this.rollUp(this.clock.now());
    });
    this.checks.set(name, { monitor, unsubscribe });
    monitor.start().catch((err: unknown) => diag.error(`otel-self-heal: health check "${name}" could not start`, err));
    return monitor;
  }

  /** Stops a check and forgets its component (its last status no longer counts). */
  removeCheck(name: string): boolean {
    const c = this.checks.get(name);
    if (!c) return false;
    c.unsubscribe();
    void c.monitor.stop();
    this.checks.delete(name);
    this.components.delete(name);
    this.rollUp(this.clock.now());
    return true;
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  /**
   * One call to `component` ended (passive monitoring from spans). Hot path: a map lookup and a
   * few array increments; never throws.
   */
  observe(component: string, kind: ComponentKind, failed: boolean, durationMs: number): void {
    const c = this.components.get(component) ?? this.create(component, kind);
    c.window.record(this.clock.now(), failed, durationMs > 0 ? durationMs : 0);
  }

  /**
   * A pushed reading for a component (passive monitoring from events, or an active check's
   * result): a status is taken as it is, metrics are classified with the thresholds; both pass
   * through the component's hysteresis.
   */
  report(component: string, reading: HealthStatus | HealthMetrics, kind: ComponentKind = 'custom'): HealthStatus {
    if (reading === null || typeof reading !== 'object') {
      throw new ConfigValidationError([
        { path: 'reading', message: `health.report reading must be a HealthStatus ({ kind, reason }) or HealthMetrics ({ timestamp, ... }), got ${String(reading)}` },
      ]);
    }
    if ('kind' in reading && !(reading.kind in LEVEL_VALUE)) {
      throw new ConfigValidationError([
        { path: 'reading.kind', message: `health.report reading.kind must be healthy, degraded, critical or failed, got ${JSON.stringify(reading.kind)}` },
      ]);
    }
    const c = this.components.get(component) ?? this.create(component, kind);
    const now = this.clock.now();
    const status = 'kind' in reading ? reading : classify(reading, this.thresholds);
    if (!('kind' in reading)) c.metrics = reading;
    this.apply(c, status, now);
    this.rollUp(now);
    return c.status;
  }

  /** Judges every span-driven component now (the timer does this every `evaluateEveryMs`). */
  evaluate(): void {
    const now = this.clock.now();
    for (const c of this.components.values()) {
      try {
        if (c.kind !== 'custom') this.judgeWindow(c, now);
        if (now - c.window.lastSeen > this.o.idleTimeoutMs && c.kind !== 'custom' && c.window.total > 0) {
          this.components.delete(c.name);
          if (c.detector) this.detectors--;
        }
      } catch (err) {
        diag.error(`otel-self-heal: judging component "${c.name}" failed`, err);
      }
    }
    this.rollUp(now);
  }

  /** Handles a spec 2.2.4 signal, in order. */
  signal(signal: SystemSignal): void {
    switch (signal.kind) {
      case 'check-health':
        for (const c of this.checks.values()) void c.monitor.signal(signal);
        this.evaluate();
        break;
      case 'component-updated': {
        // The component was changed (restarted, reconfigured): what its window holds describes
        // the old one, so it is dropped along with the status.
        const c = this.components.get(signal.component);
        if (c) {
          c.window.reset();
          this.apply(c, HEALTHY, this.clock.now(), true);
        }
        break;
      }
      case 'adjust-monitor-rate': {
        const ms = signal.intervalMs;
        if (!Number.isInteger(ms) || ms < 10 || ms > 2_147_483_647) {
          throw new ConfigValidationError([
            { path: 'signal.intervalMs', message: `signal.intervalMs must be a whole number of milliseconds from 10 to 2147483647, got ${String(ms)}` },
          ]);
        }
        this.evaluateEveryMs = ms;
        if (this.timer) {
          this.stopTimer(); // the evaluation timer only: the active checks keep their own pace
          this.start();
        }
        break;
      }
      case 'update-alert-thresholds':
        this.thresholds = resolveThresholds(signal.thresholds, this.thresholds);
        for (const c of this.checks.values()) void c.monitor.signal(signal);
        break;
      case 'shutdown':
        this.stop();
        break;
    }
  }

  /** Spec `signal_sender()`: a function that delivers signals to this monitor. */
  signalSender(): (signal: SystemSignal) => void {
    return (s) => this.signal(s);
  }

  component(name: string): ComponentHealth | undefined {
    const c = this.components.get(name);
    return c && { name: c.name, kind: c.kind, status: c.status, metrics: c.metrics };
  }

  list(): ComponentHealth[] {
    return [...this.components.values()].map((c) => ({ name: c.name, kind: c.kind, status: c.status, metrics: c.metrics }));
  }

  /** Spec `health_history()`: the component's status changes, oldest first (bounded). */
  healthHistory(name: string): HealthStatus[] {
    return [...(this.components.get(name)?.statuses ?? [])];
  }

  /** Spec `metrics_history()`: per-second readings of a span-driven component, oldest first (bounded). */
  metricsHistory(name: string): HealthMetrics[] {
    return this.components.get(name)?.history.toArray() ?? [];
  }

  /** System status changes, oldest first (bounded): the historical trend of the roll-up. */
  systemHistory(): Array<{ timestamp: number; status: HealthStatus }> {
    return [...this.systemStatuses];
  }

  systemHealth(): SystemHealth {
    const counts: Record<HealthLevel, number> = { healthy: 0, degraded: 0, critical: 0, failed: 0 };
    for (const c of this.components.values()) counts[c.status.kind]++;
    return { status: this.systemStatus, counts, timestamp: this.clock.now() };
  }

  /**
   * For a readiness probe: not ready only when the service's own routes or custom components are
   * failed. An open breaker or a failing downstream leaves it ready (resilience4j #607: pulling
   * every instance out of the load balancer because one dependency is down makes things worse).
   */
  readiness(): { ready: boolean; status: HealthStatus } {
    return { ready: this.systemStatus.kind !== 'failed', status: this.systemStatus };
  }

  /** The expected time until the next threshold of each metric is crossed, from the last `windowMs` of readings. */
  predict(name: string, windowMs = 30_000): Prediction[] {
    const c = this.components.get(name);
    if (!c) return [];
    const out: Prediction[] = [];
    const since = this.clock.now() - windowMs;
    for (const metric of ['errorRate', 'responseTime'] as const) {
      const points = c.history.series(metric, since);
      if (points.length < 5) continue;
      const { m: slope } = linearRegression(points);
      if (!(slope > 0)) continue;
      const current = points[points.length - 1]![1];
      const t = this.thresholds[metric];
      for (const level of ['degraded', 'critical', 'failed'] as const) {
        const threshold = t[level];
        if (threshold === undefined || current >= threshold) continue;
        out.push({ metric, current, slope, level, threshold, etaMs: ((threshold - current) / slope) * 1000 });
        break;
      }
    }
    return out;
  }

  onChange(listener: (change: HealthChange) => void): Disposer {
    return this.changes.add(listener);
  }

  /** Alerts at or above `minSeverity` (default: all), optionally for one component. */
  onAlert(handler: (alert: Alert) => void, filter: { minSeverity?: AlertSeverity; component?: string } = {}): Disposer {
    const min = SEVERITY_RANK[filter.minSeverity ?? 'info'];
    return this.alerts.add((a) => {
      if (SEVERITY_RANK[a.severity] >= min && (filter.component === undefined || filter.component === a.component)) handler(a);
    });
  }

  onAnomaly(listener: (event: AnomalyEvent) => void): Disposer {
    return this.anomalies.add(listener);
  }

  /** Current anomaly score (0..1) per component with a detector, for the `selfheal.anomaly.score` gauge. */
  anomalyScores(): Array<{ component: string; score: number }> {
    const out: Array<{ component: string; score: number }> = [];
    for (const c of this.components.values()) if (c.detector) out.push({ component: c.name, score: c.anomalyScore });
    return out;
  }

  private create(name: string, kind: ComponentKind): Component {
    // One overflow component per kind, so a route overflow never fails the service for a downstream.
    if (this.components.size >= this.o.maxComponents && !name.startsWith(OVERFLOW)) {
      const overflow = `${OVERFLOW} ${kind}`;
      return this.components.get(overflow) ?? this.create(overflow, kind);
    }
    const c: Component = {
      name,
      kind,
      window: new ComponentWindow(),
      hysteresis: new Hysteresis(this.o.toWorsen, this.o.toRecover),
      history: new MetricsRing(this.o.historySize),
      statuses: [],
      status: HEALTHY,
      metrics: { timestamp: this.clock.now() },
      lastSecond: 0,
      detector: kind === 'downstream' ? this.makeDetector() : undefined,
      anomalyUntil: 0,
      anomalyScore: 0,
      latencyBaseline: undefined,
      judgedAt: -1,
    };
    this.components.set(name, c);
    return c;
  }

  /**
   * Classifies with the error rate's 95% lower bound (Wilson score) in place of the rate: 1
   * failure in 20 calls is 5%, but says little; 10 in 20 says a lot. This is what keeps
   * low-traffic components from flapping on a single error.
   */
  private errorReading(metrics: HealthMetrics, failures: number, calls: number, scope: string): HealthStatus {
    if (calls < this.o.minCalls) return classify({ ...metrics, errorRate: 0 }, this.thresholds);
    const lower = wilsonLower(failures, calls);
    return classify({ ...metrics, errorRate: lower }, this.thresholds, {
      errorRate: `${failures} of ${calls} calls failed ${scope}; at least ${(lower * 100).toFixed(1)}% at 95% confidence`,
    });
  }

  /** A detector for a new component; a failing factory costs the anomaly signal, never the component. */
  private makeDetector(): StreamingDetector | undefined {
    if (this.detectors >= this.o.maxAnomalyDetectors || !this.deps.detector) return undefined;
    try {
      const d = this.deps.detector();
      if (d) this.detectors++;
      return d;
    } catch (err) {
      diag.error('otel-self-heal: the anomaly detector could not be created; this component gets none', err);
      return undefined;
    }
  }

  private judgeWindow(c: Component, now: number): void {
    const second = Math.floor(now / 1000);
    const newSecond = second !== c.lastSecond;
    if (newSecond) c.lastSecond = second;
    if (c.window.total === c.judgedAt) {
      // No call since the last judgment: no new evidence. An unhealthy status still fades once
      // its failures have left the window, or a component that lost its traffic (a pod pulled
      // from the load balancer) would stay unhealthy for good; a downstream with an open
      // breaker keeps its status, the breaker being the evidence.
      if (c.status.kind !== 'healthy' && newSecond && !this.breakerOpen(c)) {
        const w = c.window.snapshot(now);
        if (w.failures === 0) this.apply(c, HEALTHY, now);
      }
      return;
    }
    const w = c.window.snapshot(now);
    if (w.count < this.o.minCalls) {
      if (c.status.kind !== 'healthy' && w.failures === 0 && newSecond) this.apply(c, HEALTHY, now);
      return; // too little to judge: the status stands until there is evidence
    }
    c.judgedAt = c.window.total;
    c.metrics = {
      timestamp: now,
      responseTime: w.p95,
      errorRate: w.errorRate,
      throughput: w.throughput,
      customMetrics: { p50: w.p50, p99: w.p99 },
    };
    if (newSecond) {
      c.history.push(now, w.p95, w.errorRate, w.throughput);
      if (c.detector) {
        const median = c.window.lastSecondMedian(now, this.o.minCalls);
        if (median !== undefined) this.detect(c, median, now);
      }
    }
    // The window's error rate is slow to move after a long healthy spell; the last 32 calls react
    // within a few calls. The worse of the two readings counts.
    let reading = worse(
      this.errorReading(c.metrics, w.failures, w.count, 'in the last 10 s'),
      this.errorReading(c.metrics, w.recentFailures, w.recentCount, 'of the last calls'),
    );
    if (now < c.anomalyUntil) reading = worse(reading, { kind: 'degraded', reason: `latency anomaly (score ${c.anomalyScore.toFixed(2)})` });
    this.apply(c, reading, now);
  }

  private breakerOpen(c: Component): boolean {
    return c.kind === 'downstream' && this.deps.registry?.find(c.name)?.peekState() === 'open';
  }

  private detect(c: Component, latency: number, now: number): void {
    try {
      const r = c.detector!.update(latency, now);
      c.anomalyScore = r.score;
      // The detector is scale-free: on a smooth series it also flags shifts too small to matter.
      // Health counts only a rise of at least half the usual latency and 10 ms (a drop is no
      // health problem); the usual latency is a slow moving average of the readings.
      const base = c.latencyBaseline;
      const significant = base !== undefined && latency >= base * 1.5 && latency - base >= 10;
      c.latencyBaseline = base === undefined ? latency : base + 0.02 * (latency - base);
      if (r.anomalous && significant) {
        if (now >= c.anomalyUntil) this.anomalies.emit({ component: c.name, metric: 'latency', value: latency, score: r.score, timestamp: now });
        c.anomalyUntil = now + ANOMALY_HOLD_MS;
      }
    } catch (err) {
      c.detector = undefined; // a broken detector is dropped; health goes on without it
      this.detectors--;
      diag.error(`otel-self-heal: the anomaly detector of "${c.name}" failed; it is dropped`, err);
    }
  }

  private apply(c: Component, reading: HealthStatus, now: number, force = false): void {
    const before = c.status;
    if (force) c.hysteresis.force(reading);
    const after = force ? reading : c.hysteresis.update(reading);
    if (after.kind === before.kind) {
      c.status = after; // same level: keep the freshest reason
      return;
    }
    c.status = after;
    c.statuses.push(after);
    if (c.statuses.length > this.o.historySize) c.statuses.shift();
    // The breaker first: listeners (recovery and its telemetry) then see the breaker already open.
    if (this.o.driveBreakers && c.kind === 'downstream') this.driveBreaker(c.name, before, after);
    const change: HealthChange = { component: c.name, from: before, to: after, metrics: c.metrics, timestamp: now };
    this.changes.emit(change);
    this.alerts.emit({
      severity: SEVERITY[after.kind],
      component: c.name,
      status: after,
      previous: before,
      message: after.kind === 'healthy' ? `${c.name} recovered (was ${before.kind})` : `${c.name} is ${after.kind}: ${after.reason}`,
      timestamp: now,
    });
  }

  /** Spec 3.3.1 step 5: failed opens the breaker; recovery from failed lets it probe at once. */
  private driveBreaker(name: string, before: HealthStatus, after: HealthStatus): void {
    const breaker = this.deps.registry?.find(name);
    if (!breaker) return;
    if (after.kind === 'failed') breaker.open('health-failed');
    else if (before.kind === 'failed') breaker.probeNow();
  }

  private rollUp(now: number): void {
    let status: HealthStatus = HEALTHY;
    for (const c of this.components.values()) {
      const cs = c.status;
      if (cs.kind === 'healthy') continue;
      // A failing downstream degrades the service; it does not fail it.
      const s: HealthStatus =
        c.kind === 'downstream' && LEVEL_VALUE[cs.kind] > LEVEL_VALUE.degraded
          ? { kind: 'degraded', reason: `${c.name} is ${cs.kind}` }
          : { kind: cs.kind, reason: `${c.name}: ${cs.reason}` };
      if (LEVEL_VALUE[s.kind] > LEVEL_VALUE[status.kind]) status = s;
    }
    // An open breaker is a dependency cut off: the service is degraded, never more (resilience4j #607).
    if (status.kind === 'healthy' && this.deps.registry) {
      for (const b of this.deps.registry) {
        if (b.peekState() === 'open') {
          status = { kind: 'degraded', reason: `circuit breaker ${b.name} is open` };
          break;
        }
      }
    }
    if (status.kind !== this.systemStatus.kind) {
      this.systemStatuses.push({ timestamp: now, status });
      if (this.systemStatuses.length > 500) this.systemStatuses.shift();
    }
    this.systemStatus = status;
  }
}
