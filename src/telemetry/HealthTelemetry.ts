import type { Attributes, BatchObservableCallback, Meter, MeterProvider, Observable } from '@opentelemetry/api';
import type { Disposer } from '../disposer.js';
import { LEVEL_VALUE, type Alert, type AnomalyEvent, type HealthChange, type HealthMonitor } from '../health/index.js';
import { SEVERITY, eventLogger, type EventLoggerProvider } from './logs.js';
import { MeterBinding } from './MeterBinding.js';
import * as N from './names.js';

const ALERT_SEVERITY = { info: SEVERITY.INFO, warning: SEVERITY.WARN, critical: SEVERITY.ERROR } as const;

/** Anomaly events so far of one component, per metric (a new metric kind fails to compile here until counted). */
type AnomalyCounts = Record<AnomalyEvent['metric'], number>;
const NO_ANOMALIES: Readonly<AnomalyCounts> = { latency: 0 };

/**
 * Counts kept before an anomaly event itself drops those of components the monitor forgot:
 * collections do that, but a reader may never collect.
 */
const PRUNE_ANOMALY_COUNTS_AT = 1000;

/**
 * Emits the health monitor's decisions: a log event per status change
 * (`selfheal.health.status_change`), per alert (`selfheal.alert`) and per anomaly
 * (`selfheal.anomaly`), the `selfheal.component.health` and `selfheal.anomaly.score` gauges,
 * read from the monitor at collection time, and the `selfheal.anomalies` counter, counted here per
 * anomaly event (rare: at most one per component per 10 s) and reported at collection time.
 * Counts and scores have one series per component with an anomaly detector (a bounded set: the
 * monitor's `maxAnomalyDetectors`), at 0 before its first anomaly so that `increase()` sees the first.
 */
export class HealthTelemetry {
  private loggerProvider: EventLoggerProvider | undefined;
  private readonly subscriptions: Disposer[];
  private readonly metrics: MeterBinding;
  private readonly anomalyCounts = new Map<string, AnomalyCounts>();

  constructor(
    private readonly monitor: HealthMonitor,
    private readonly version: string,
  ) {
    this.subscriptions = [
      monitor.onChange((c) => this.changed(c)),
      monitor.onAlert((a) => this.alert(a)),
      monitor.onAnomaly((e) => this.anomaly(e)),
    ];
    this.metrics = new MeterBinding(version, (meter) => this.metricsFor(meter));
  }

  useLoggerProvider(provider: EventLoggerProvider): void {
    this.loggerProvider = provider;
  }

  useMeterProvider(provider: MeterProvider): void {
    this.metrics.bind(provider);
  }

  close(): void {
    for (const d of this.subscriptions) d();
  }

  private metricsFor(meter: Meter): { observables: Observable[]; callback: BatchObservableCallback } {
    const health = meter.createObservableGauge(N.METRIC_COMPONENT_HEALTH, {
      description: 'Component health: 0 healthy, 1 degraded, 2 critical, 3 failed',
      unit: '1',
    });
    const anomaly = meter.createObservableGauge(N.METRIC_ANOMALY_SCORE, {
      description: "Latest anomaly score (0..1) of a component's latency",
      unit: '1',
    });
    const anomalies = meter.createObservableCounter(N.METRIC_ANOMALIES, {
      description: 'Anomaly events (selfheal.anomaly), by component and metric',
      unit: '{anomaly}',
    });
    const callback: BatchObservableCallback = (result) => {
      for (const c of this.monitor.list()) {
        result.observe(health, LEVEL_VALUE[c.status.kind], { [N.ATTR_COMPONENT_NAME]: c.name, [N.ATTR_COMPONENT_KIND]: c.kind });
      }
      const detected = new Set<string>();
      for (const a of this.monitor.anomalyScores()) {
        detected.add(a.component);
        result.observe(anomaly, a.score, { [N.ATTR_COMPONENT_NAME]: a.component });
        for (const [metric, n] of Object.entries(this.anomalyCounts.get(a.component) ?? NO_ANOMALIES)) {
          result.observe(anomalies, n, { [N.ATTR_COMPONENT_NAME]: a.component, [N.ATTR_ANOMALY_METRIC]: metric });
        }
      }
      this.keepAnomalyCounts(detected);
    };
    return { observables: [health, anomaly, anomalies], callback };
  }

  /** Drops the counts of components the monitor forgot: a comeback starts again at 0 (a counter reset, which increase() handles). */
  private keepAnomalyCounts(detected: ReadonlySet<string>): void {
    for (const name of this.anomalyCounts.keys()) if (!detected.has(name)) this.anomalyCounts.delete(name);
  }

  private emit(eventName: string, severityNumber: number, severityText: string, body: string, attributes: Attributes, timestamp: number): void {
    eventLogger(this.loggerProvider, N.SCOPE_NAME, this.version)?.emit({ eventName, severityNumber, severityText, body, attributes, timestamp });
  }

  private changed(c: HealthChange): void {
    const attributes: Attributes = {
      [N.ATTR_COMPONENT_NAME]: c.component,
      [N.ATTR_HEALTH_FROM]: c.from.kind,
      [N.ATTR_HEALTH_TO]: c.to.kind,
    };
    if (c.to.kind !== 'healthy') attributes[N.ATTR_HEALTH_REASON] = c.to.reason;
    if (c.metrics.errorRate !== undefined) attributes[N.ATTR_ERROR_RATE] = c.metrics.errorRate;
    if (c.metrics.responseTime !== undefined) attributes[N.ATTR_RESPONSE_TIME] = c.metrics.responseTime;
    const worse = LEVEL_VALUE[c.to.kind] > LEVEL_VALUE[c.from.kind];
    this.emit(
      N.EVENT_HEALTH_STATUS_CHANGE,
      worse ? SEVERITY.WARN : SEVERITY.INFO,
      worse ? 'WARN' : 'INFO',
      `${c.component}: ${c.from.kind} -> ${c.to.kind}${c.to.kind === 'healthy' ? '' : ` (${c.to.reason})`}`,
      attributes,
      c.timestamp,
    );
  }

  private alert(a: Alert): void {
    this.emit(
      N.EVENT_ALERT,
      ALERT_SEVERITY[a.severity],
      a.severity.toUpperCase(),
      a.message,
      { [N.ATTR_COMPONENT_NAME]: a.component, [N.ATTR_ALERT_SEVERITY]: a.severity, [N.ATTR_HEALTH_TO]: a.status.kind, [N.ATTR_HEALTH_FROM]: a.previous.kind },
      a.timestamp,
    );
  }

  private anomaly(e: AnomalyEvent): void {
    let counts = this.anomalyCounts.get(e.component);
    if (!counts) {
      if (this.anomalyCounts.size >= PRUNE_ANOMALY_COUNTS_AT) this.keepAnomalyCounts(new Set(this.monitor.anomalyScores().map((a) => a.component)));
      counts = { ...NO_ANOMALIES };
      this.anomalyCounts.set(e.component, counts);
    }
    counts[e.metric]++;
    this.emit(
      N.EVENT_ANOMALY,
      SEVERITY.WARN,
      'WARN',
      `anomalous ${e.metric} on ${e.component}: ${e.value.toFixed(1)} (score ${e.score.toFixed(2)})`,
      { [N.ATTR_COMPONENT_NAME]: e.component, [N.ATTR_ANOMALY_METRIC]: e.metric, [N.ATTR_ANOMALY_VALUE]: e.value, [N.ATTR_ANOMALY_SCORE]: e.score },
      e.timestamp,
    );
  }
}
