import {
  SpanKind,
  SpanStatusCode,
  context,
  diag,
  isSpanContextValid,
  trace,
  type Attributes,
  type Context,
  type Link,
  type MeterProvider,
  type Span,
  type SpanContext,
} from '@opentelemetry/api';
import type { Disposer } from '../disposer.js';
import type { OutcomeKind, RecoveryEvents, RecoveryManager } from '../recovery/index.js';
import type { BreakerTelemetry } from './BreakerTelemetry.js';
import { SEVERITY } from './logs.js';
import * as N from './names.js';
import { RecoveryMetrics } from './RecoveryMetrics.js';

/** What recovery telemetry needs of the plugin's telemetry hub (`BreakerTelemetry` fits). */
export type TelemetryHub = Pick<BreakerTelemetry, 'tracer' | 'logger' | 'follow'>;

/** The recovery under way for one component: the manager runs one per component at a time. */
interface OpenRecovery {
  readonly root: Span;
  /** The root as parent, for the children and for the log events' trace correlation. */
  readonly ctx: Context;
  /** Attempt spans by attempt number, until their `attempt-finished`. */
  readonly attempts: Map<number, Span>;
}

/** Outcomes that leave the component unhealed: the root span's status is ERROR for these. */
const UNHEALED: ReadonlySet<OutcomeKind> = new Set(['escalated', 'manual-intervention']);

// scheme://[userinfo@]host/path[?query][#fragment]: the userinfo, query and fragment go.
const URL_IN_TEXT = /\b([a-z][a-z\d+.-]*:\/\/)(?:[^\s/?#@]*@)?([^\s?#]*)(?:\?[^\s#]*)?(?:#\S*)?/gi;

/** `text` with credentials, queries and fragments taken out of every URL in it (a connection string's password, a token in a query). */
export function redactUrls(text: string): string {
  return text.replace(URL_IN_TEXT, '$1$2');
}

/**
 * Makes each recovery one trace: a root `selfheal.recovery` span from `recovery-started` to
 * `recovery-completed`, linked to the spans that showed the failure, with a child per attempt
 * and per verification; a `selfheal.recovery.completed` log event; a critical `selfheal.alert`
 * when a component is left to a person (and an info one when it is acknowledged); and the
 * `selfheal.recovery.attempts` counter and `selfheal.recovery.on_hold` gauge (RecoveryMetrics),
 * read from the manager's statistics at collection time.
 * Span times are the events' own (the manager's clock).
 */
export class RecoveryTelemetry {
  private readonly open = new Map<string, OpenRecovery>();
  private readonly subscriptions: Disposer[];
  private readonly metrics: RecoveryMetrics;

  constructor(
    private readonly recovery: Pick<RecoveryManager, 'on' | 'stats'>,
    private readonly hub: TelemetryHub,
    version: string,
    /** Span contexts of the calls that showed `component` failing (e.g. its breaker's evidence); they become the root's links. */
    private readonly evidence?: (component: string) => readonly SpanContext[],
  ) {
    this.subscriptions = [
      recovery.on('recovery-started', (e) => this.started(e)),
      recovery.on('attempt-started', (e) => this.attemptStarted(e)),
      recovery.on('rolled-back', (e) => this.rolledBack(e)),
      recovery.on('attempt-finished', (e) => this.attemptFinished(e)),
      recovery.on('manual-intervention', (e) => this.manualIntervention(e)),
      recovery.on('recovery-completed', (e) => this.completed(e)),
      recovery.on('acknowledged', (e) => this.acknowledged(e)),
    ];
    this.metrics = new RecoveryMetrics(recovery, version);
    hub.follow(this);
  }

  /**
   * The metrics are observable: they report attempts and holds from before a provider was set, and
   * a new provider gets the same totals (a synchronous counter would start again from zero).
   */
  useMeterProvider(provider: MeterProvider): void {
    this.metrics.bind(provider);
  }

  /**
   * Stops listening and ends the spans of recoveries still under way (their outcome unknown). The
   * metric callback stays with the meter, for its final collection (see BreakerTelemetry.close).
   */
  close(): void {
    for (const d of this.subscriptions) d();
    for (const o of this.open.values()) {
      for (const span of o.attempts.values()) span.end();
      o.root.end();
    }
    this.open.clear();
  }

  private links(component: string): Link[] {
    if (!this.evidence) return [];
    try {
      return this.evidence(component)
        .filter(isSpanContextValid)
        .map((ctx) => ({ context: ctx }));
    } catch (err) {
      diag.error(`otel-self-heal: reading the failure evidence of "${component}" failed`, err);
      return [];
    }
  }

  private started(e: RecoveryEvents['recovery-started']): void {
    this.finish(e.component, e.timestamp); // a recovery whose end we missed
    const status = e.trigger.status;
    const attributes: Attributes = {
      [N.ATTR_COMPONENT_NAME]: e.component,
      [N.ATTR_RECOVERY_FAILURE_TYPE]: e.failureType,
      [N.ATTR_RECOVERY_TRIGGER]: e.trigger.source,
      [N.ATTR_RECOVERY_PLAN]: e.plan,
      [N.ATTR_HEALTH_TO]: status.kind,
    };
    if (status.kind !== 'healthy') attributes[N.ATTR_HEALTH_REASON] = redactUrls(status.reason);
    for (const [k, v] of Object.entries(e.metadata)) attributes[N.ATTR_RECOVERY_METADATA_PREFIX + k] = v;
    // Its own trace, findable by name; the links lead to the calls that failed.
    const root = this.hub.tracer().startSpan(N.SPAN_RECOVERY, {
      kind: SpanKind.INTERNAL,
      root: true,
      startTime: e.timestamp,
      attributes,
      links: this.links(e.component),
    });
    this.open.set(e.component, { root, ctx: trace.setSpan(context.active(), root), attempts: new Map() });
  }

  private attemptStarted(e: RecoveryEvents['attempt-started']): void {
    const o = this.open.get(e.component);
    if (!o) return;
    const span = this.hub.tracer().startSpan(
      N.SPAN_RECOVERY_ATTEMPT,
      {
        kind: SpanKind.INTERNAL,
        startTime: e.timestamp,
        attributes: {
          [N.ATTR_COMPONENT_NAME]: e.component,
          [N.ATTR_RECOVERY_STRATEGY]: e.strategy,
          [N.ATTR_RECOVERY_ATTEMPT]: e.attempt,
          [N.ATTR_RECOVERY_RETRY]: e.retry,
          [N.ATTR_HEALTH_FROM]: e.before.kind,
        },
      },
      o.ctx,
    );
    o.attempts.set(e.attempt, span);
  }

  private rolledBack(e: RecoveryEvents['rolled-back']): void {
    const span = this.open.get(e.component)?.attempts.get(e.attempt);
    if (!span) return;
    span.setAttribute(N.ATTR_HEALTH_TO, e.after.kind);
    if (!e.success) span.recordException({ name: 'RollbackError', message: redactUrls(e.error ?? 'the undo failed') }, e.timestamp);
  }

  private attemptFinished(e: RecoveryEvents['attempt-finished']): void {
    const o = this.open.get(e.component);
    if (!o) return;
    const r = e.result;
    const end = r.timestamp + r.durationMs;
    const v = e.verification;
    if (v) {
      // No event marks the action's end: the verification is placed to end with the attempt (after
      // a rollback it then shows up to the undo's time late; the undo is on the attempt span).
      const verify = this.hub.tracer().startSpan(
        N.SPAN_RECOVERY_VERIFY,
        {
          kind: SpanKind.INTERNAL,
          startTime: end - v.durationMs,
          attributes: {
            [N.ATTR_COMPONENT_NAME]: e.component,
            [N.ATTR_RECOVERY_STRATEGY]: e.strategy,
            [N.ATTR_RECOVERY_ATTEMPT]: e.attempt,
            [N.ATTR_RECOVERY_VERIFIED]: v.verified,
            [N.ATTR_RECOVERY_VERIFY_SOURCE]: v.source,
            [N.ATTR_HEALTH_FROM]: e.before.kind,
            ...(v.status ? { [N.ATTR_HEALTH_TO]: v.status.kind } : {}),
          },
        },
        o.ctx,
      );
      if (!v.verified) verify.setStatus({ code: SpanStatusCode.ERROR, message: 'health did not confirm the action' });
      verify.end(end);
    }
    const span = o.attempts.get(e.attempt);
    if (!span) return;
    o.attempts.delete(e.attempt);
    span.setAttributes({ [N.ATTR_RECOVERY_SUCCESS]: r.success, [N.ATTR_RECOVERY_ROLLED_BACK]: r.rolledBack });
    if (r.error !== undefined) {
      const message = redactUrls(r.error);
      span.setAttribute(N.ATTR_RECOVERY_ERROR, message);
      span.setStatus({ code: SpanStatusCode.ERROR, message });
    }
    span.end(end);
  }

  private manualIntervention(e: RecoveryEvents['manual-intervention']): void {
    const attributes: Attributes = {
      [N.ATTR_COMPONENT_NAME]: e.component,
      [N.ATTR_ALERT_SEVERITY]: e.severity,
      [N.ATTR_RECOVERY_FAILURE_TYPE]: e.failureType,
      [N.ATTR_RECOVERY_ATTEMPT_COUNT]: e.attempts.length,
    };
    // e.g. the runbook URL of the plan, for whoever is paged.
    for (const [k, v] of Object.entries(e.metadata)) attributes[N.ATTR_RECOVERY_METADATA_PREFIX + k] = v;
    // Same severity mapping as the health monitor's critical alerts.
    this.emit(e.component, N.EVENT_ALERT, SEVERITY.ERROR, 'CRITICAL', redactUrls(e.message), attributes, e.timestamp);
  }

  private acknowledged(e: RecoveryEvents['acknowledged']): void {
    this.emit(
      e.component,
      N.EVENT_ALERT,
      SEVERITY.INFO,
      'INFO',
      `${e.component}: manual intervention acknowledged; automatic recovery resumes`,
      { [N.ATTR_COMPONENT_NAME]: e.component, [N.ATTR_ALERT_SEVERITY]: 'info' },
      e.timestamp,
    );
  }

  private completed(e: RecoveryEvents['recovery-completed']): void {
    const o = e.outcome;
    const attributes: Attributes = {
      [N.ATTR_COMPONENT_NAME]: e.component,
      [N.ATTR_RECOVERY_FAILURE_TYPE]: e.failureType,
      [N.ATTR_RECOVERY_OUTCOME]: o.outcome,
      [N.ATTR_RECOVERY_STRATEGIES]: [...new Set(o.attempts.map((a) => a.action))],
      [N.ATTR_RECOVERY_ROLLED_BACK]: o.rolledBack,
      [N.ATTR_RECOVERY_ATTEMPT_COUNT]: o.attempts.length,
      [N.ATTR_RECOVERY_DURATION]: o.durationMs,
      [N.ATTR_RECOVERY_TRIGGER]: e.trigger.source,
    };
    if (o.reason !== undefined) attributes[N.ATTR_RECOVERY_REASON] = o.reason;
    if (o.plan !== undefined) attributes[N.ATTR_RECOVERY_PLAN] = o.plan;
    const detail = o.detail === undefined ? undefined : redactUrls(o.detail);
    // Skipped (healthy once its dependencies recovered) and cancelled (stopped) are no failures.
    const unhealed = UNHEALED.has(o.outcome);
    const open = this.open.get(e.component);
    if (open) {
      open.root.setAttributes(attributes);
      if (unhealed) open.root.setStatus({ code: SpanStatusCode.ERROR, ...(detail ? { message: detail } : {}) });
    }
    const body = `recovery of ${e.component} (${e.failureType}): ${o.outcome} after ${o.attempts.length} attempt(s) in ${o.durationMs} ms${detail ? `; ${detail}` : ''}`;
    this.emit(e.component, N.EVENT_RECOVERY_COMPLETED, unhealed ? SEVERITY.WARN : SEVERITY.INFO, unhealed ? 'WARN' : 'INFO', body, attributes, e.timestamp);
    this.finish(e.component, e.timestamp);
  }

  /** Ends the spans of `component`'s recovery, attempts cut short included. */
  private finish(component: string, at: number): void {
    const o = this.open.get(component);
    if (!o) return;
    this.open.delete(component);
    for (const span of o.attempts.values()) span.end(at);
    o.root.end(at);
  }

  /**
   * A log event in the recovery's trace: the record carries the root's trace and span ids. The
   * context goes in the record (the logs API reads it before the active one), so this holds
   * without a context manager too.
   */
  private emit(component: string, eventName: string, severityNumber: number, severityText: string, body: string, attributes: Attributes, timestamp: number): void {
    const open = this.open.get(component);
    const record = { eventName, severityNumber, severityText, body, attributes, timestamp, ...(open ? { context: open.ctx } : {}) };
    this.hub.logger()?.emit(record);
  }
}
