import type { Attributes, BatchObservableCallback, Meter, MeterProvider, Observable } from '@opentelemetry/api';
import type { Disposer } from '../disposer.js';
import { LEVEL_VALUE, type Alert, type AnomalyEvent, type HealthChange, type HealthMonitor } from '../health/index.js';
import { SEVERITY, eventLogger, type EventLoggerProvider } from './logs.js';
import { MeterBinding } from './MeterBinding.js';
import * as N from './names.js';

const ALERT_SEVERITY = { info: SEVERITY.INFO, warning: SEVERITY.WARN, critical: SEVERITY.ERROR } as const;

/**
 * Emits the health monitor's decisions: a log event per status change
 * (`selfheal.health.status_change`), per alert (`selfheal.alert`) and per anomaly
 * (`selfheal.anomaly`), and the `selfheal.component.health` and `selfheal.anomaly.score`
 * gauges, read from the monitor at collection time.
 */
export class HealthTelemetry {
  private loggerProvider: EventLoggerProvider | undefined;
  private readonly subscriptions: Disposer[];
  private readonly metrics: MeterBinding;

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
    const callback: BatchObservableCallback = (result) => {
      for (const c of this.monitor.list()) {
        result.observe(health, LEVEL_VALUE[c.status.kind], { [N.ATTR_COMPONENT_NAME]: c.name, [N.ATTR_COMPONENT_KIND]: c.kind });
      }
      for (const a of this.monitor.anomalyScores()) result.observe(anomaly, a.score, { [N.ATTR_COMPONENT_NAME]: a.component });
    };
    return { observables: [health, anomaly], callback };
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
