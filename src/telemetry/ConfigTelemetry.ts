import {
  SpanKind,
  context,
  trace,
  type Attributes,
  type BatchObservableCallback,
  type Meter,
  type MeterProvider,
  type Observable,
  type SpanContext,
} from '@opentelemetry/api';
import type { AdaptiveConfigManager, ConfigChangeEvent } from '../config/adaptive/index.js';
import type { Disposer } from '../disposer.js';
import { SEVERITY } from './logs.js';
import { MeterBinding } from './MeterBinding.js';
import * as N from './names.js';
import type { TelemetryHub } from './RecoveryTelemetry.js';

/** Apply spans remembered for a rollback's link back to the change it undoes. */
const REMEMBERED = 32;

/**
 * Emits every configuration version: a short `selfheal.config.apply` span and a
 * `selfheal.config.changed` log event with the versions, source, cause and the names of the
 * changed keys, and the `selfheal.config.version` gauge. Values never leave: not even redacted
 * ones, since a redacted value still tells that a secret changed and to what length or kind.
 */
export class ConfigTelemetry {
  private readonly unsubscribe: Disposer;
  private readonly metrics: MeterBinding;
  /** The apply span of each recent version, so a rollback links to the version it leaves. */
  private readonly applied = new Map<number, SpanContext>();

  constructor(
    private readonly config: Pick<AdaptiveConfigManager, 'onChange' | 'currentConfig' | 'history'>,
    private readonly hub: TelemetryHub,
    version: string,
  ) {
    this.unsubscribe = config.onChange((e) => this.changed(e));
    this.metrics = new MeterBinding(version, (meter) => this.metricsFor(meter));
    hub.follow(this);
  }

  useMeterProvider(provider: MeterProvider): void {
    this.metrics.bind(provider);
  }

  /** Stops listening. The gauge stays with the meter, for its final collection (see BreakerTelemetry.close). */
  close(): void {
    this.unsubscribe();
    this.applied.clear();
  }

  private metricsFor(meter: Meter): { observables: Observable[]; callback: BatchObservableCallback } {
    const version = meter.createObservableGauge(N.METRIC_CONFIG_VERSION, {
      description: 'Version of the adaptive configuration in force (one more per applied change or rollback)',
      unit: '1',
    });
    const callback: BatchObservableCallback = (result) => {
      result.observe(version, this.config.currentConfig().version);
    };
    return { observables: [version], callback };
  }

  /** When version `v` was applied (the manager's clock); a listener may hear of it after a newer one is in force. */
  private timestampOf(v: number): number {
    const current = this.config.currentConfig();
    if (current.version === v) return current.timestamp;
    return this.config.history().find((e) => e.version === v)?.timestamp ?? Date.now();
  }

  private changed(e: ConfigChangeEvent): void {
    const attributes: Attributes = {
      [N.ATTR_CONFIG_VERSION_FROM]: e.from,
      [N.ATTR_CONFIG_VERSION_TO]: e.to,
      [N.ATTR_CONFIG_CHANGED_KEYS]: [...e.changedKeys],
      [N.ATTR_CONFIG_SOURCE]: e.source,
      [N.ATTR_CONFIG_CAUSE]: e.cause,
      [N.ATTR_CONFIG_CHANGE_TYPE]: e.type,
    };
    const rolledBack = e.type === 'rolled-back';
    if (rolledBack) attributes[N.ATTR_CONFIG_ROLLED_BACK] = true;
    if (e.reason !== undefined) attributes[N.ATTR_CONFIG_REASON] = e.reason;
    const timestamp = this.timestampOf(e.to);
    const undone = rolledBack ? this.applied.get(e.from) : undefined;
    // A child of whatever applied it (an optimizer generation, an admin request), else its own trace.
    const span = this.hub.tracer().startSpan(N.SPAN_CONFIG_APPLY, {
      kind: SpanKind.INTERNAL,
      startTime: timestamp,
      attributes,
      links: undone ? [{ context: undone }] : [],
    });
    span.end(timestamp);
    this.applied.set(e.to, span.spanContext());
    if (this.applied.size > REMEMBERED) this.applied.delete(this.applied.keys().next().value!);

    const keys = e.changedKeys.length ? e.changedKeys.join(', ') : 'no value changed';
    const body = `configuration version ${e.from} -> ${e.to} (${e.source}, ${e.cause}): ${keys}${e.reason === undefined ? '' : `; ${e.reason}`}`;
    const record = {
      eventName: N.EVENT_CONFIG_CHANGED,
      severityNumber: rolledBack ? SEVERITY.WARN : SEVERITY.INFO,
      severityText: rolledBack ? 'WARN' : 'INFO',
      body,
      attributes,
      timestamp,
      // The apply span's context, so that the record carries its trace and span ids.
      context: trace.setSpan(context.active(), span),
    };
    this.hub.logger()?.emit(record);
  }
}
