import {
  SpanKind,
  SpanStatusCode,
  context,
  metrics,
  trace,
  type Attributes,
  type BatchObservableCallback,
  type Meter,
  type Observable,
  type Context,
  type MeterProvider,
  type Span,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { STATE_VALUE, type CircuitBreakerRegistry, type CircuitOpenError, type StateChange } from '../breaker/index.js';
import type { Disposer } from '../disposer.js';
import { SEVERITY, eventLogger, type EventLogger, type EventLoggerProvider } from './logs.js';
import { MeterBinding } from './MeterBinding.js';
import * as N from './names.js';

/** What telemetry knows of a call the breaker refused. */
export interface RejectedCall {
  method: string;
  /** `protocol//host:port`, never with credentials. */
  origin: string;
  /** Path and query as the client sent them; the query is dropped unless asked for. */
  path: string;
  serverAddress: string;
  serverPort: number;
}

/** A database call the breaker refused (never its query text or parameters). */
export interface RejectedDbCall {
  /** `db.system.name`: postgresql, mysql, redis. */
  system: string;
  /** Database name (Redis: the index). */
  namespace: string;
  /** Operation: the SQL verb or Redis command when known, else e.g. `connect`. */
  operation: string;
  serverAddress: string;
  serverPort: number;
}

/**
 * Emits the breaker's decisions: per transition a log event, a span event on the active span
 * and a short span linked to the failed calls; per rejected call a span event (on the call's
 * own span, or on one we create when there is none); and the state and call-count metrics,
 * read from the breakers' own counters at collection time so the hot path records nothing.
 */
export class BreakerTelemetry {
  private tracerProvider: TracerProvider | undefined;
  private cachedTracer: { provider: TracerProvider; tracer: Tracer } | undefined;
  /**
   * The context of the call whose outcome is being recorded, set by the instrumentations around
   * `record*`: a client may report the outcome in another call's async context (a pooled
   * socket's), and a transition's span event belongs on the call that caused it.
   */
  callContext: Context | undefined;
  private loggerProvider: EventLoggerProvider | undefined;
  private readonly unsubscribe: Disposer;
  private readonly metrics: MeterBinding;
  private meterProvider: MeterProvider | undefined;

  constructor(
    private readonly registry: CircuitBreakerRegistry,
    private readonly version: string,
    private readonly keepQuery = false,
    /** Other telemetry that takes its providers from the same instrumentations. */
    private readonly followers: Array<{ useMeterProvider(p: MeterProvider): void; useLoggerProvider?(p: EventLoggerProvider): void }> = [],
  ) {
    this.unsubscribe = registry.onStateChange((change) => this.stateChanged(change));
    this.metrics = new MeterBinding(version, (meter) => this.metricsFor(meter));
  }

  useTracerProvider(provider: TracerProvider): void {
    this.tracerProvider = provider;
  }

  /** The plugin's event logger, looked up at emit time (see logs.ts). */
  logger(): EventLogger | undefined {
    return eventLogger(this.loggerProvider, N.SCOPE_NAME, this.version);
  }

  useLoggerProvider(provider: EventLoggerProvider): void {
    this.loggerProvider = provider;
    for (const f of this.followers) f.useLoggerProvider?.(provider);
  }

  /** Registers the observable instruments on `provider`'s meter (once per provider). */
  useMeterProvider(provider: MeterProvider): void {
    this.metrics.bind(provider);
    this.meterProvider = provider;
    for (const f of this.followers) f.useMeterProvider(provider);
  }

  /** Adds telemetry that takes its meter provider from the same place (now, if one is known). */
  follow(follower: { useMeterProvider(p: MeterProvider): void }): void {
    this.followers.push(follower);
    if (this.meterProvider) follower.useMeterProvider(this.meterProvider);
  }

  private metricsFor(meter: Meter): { observables: Observable[]; callback: BatchObservableCallback } {
    const state = meter.createObservableGauge(N.METRIC_BREAKER_STATE, {
      description: 'Circuit breaker state: 0 closed, 1 half-open, 2 open',
      unit: '1',
    });
    const calls = meter.createObservableCounter(N.METRIC_BREAKER_CALLS, {
      description: 'Calls through a circuit breaker, by outcome (success, failure, rejected, fallback)',
      unit: '{call}',
    });
    const callback: BatchObservableCallback = (result) => {
      for (const b of this.registry) {
        const name = { [N.ATTR_BREAKER_NAME]: b.name };
        result.observe(state, STATE_VALUE[b.peekState()], name); // observing must not cause a transition
        result.observe(calls, b.successes, { ...name, [N.ATTR_OUTCOME]: 'success' });
        result.observe(calls, b.failures, { ...name, [N.ATTR_OUTCOME]: 'failure' });
        result.observe(calls, b.rejections, { ...name, [N.ATTR_OUTCOME]: 'rejected' });
        result.observe(calls, b.fallbacks, { ...name, [N.ATTR_OUTCOME]: 'fallback' });
      }
    };
    return { observables: [state, calls], callback };
  }

  /**
   * Records a refused call. `callSpan` is the call's own CLIENT span when an HTTP
   * instrumentation made one; otherwise a CLIENT span is created here so the refusal shows in
   * the trace.
   */
  rejected(error: CircuitOpenError, call: RejectedCall, callSpan?: Span): void {
    const eventAttrs: Attributes = { [N.ATTR_BREAKER_NAME]: error.breaker, [N.ATTR_BREAKER_STATE]: error.state };
    if (callSpan?.isRecording()) {
      callSpan.addEvent(N.EVENT_BREAKER_REJECTED, eventAttrs);
      callSpan.setAttribute(N.SEMCONV.errorType, N.ERROR_TYPE_CIRCUIT_OPEN);
      return;
    }
    const q = this.keepQuery ? -1 : call.path.indexOf('?');
    const attributes: Attributes = {
      [N.SEMCONV.httpRequestMethod]: call.method,
      [N.SEMCONV.errorType]: N.ERROR_TYPE_CIRCUIT_OPEN,
      [N.ATTR_BREAKER_NAME]: error.breaker,
      [N.SEMCONV.serverAddress]: call.serverAddress,
      [N.SEMCONV.serverPort]: call.serverPort,
      [N.SEMCONV.urlFull]: call.origin + (q === -1 ? call.path : call.path.slice(0, q)),
    };
    const span = this.tracer().startSpan(call.method, { kind: SpanKind.CLIENT, attributes }, this.callContext ?? context.active());
    span.addEvent(N.EVENT_BREAKER_REJECTED, eventAttrs);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    span.end();
  }

  /**
   * Records a refused database call: a span event on `callSpan` (the official instrumentation's
   * span, when it wraps ours), else a CLIENT span of ours with the database attributes.
   */
  rejectedDb(error: CircuitOpenError, call: RejectedDbCall, callSpan?: Span): void {
    const eventAttrs: Attributes = { [N.ATTR_BREAKER_NAME]: error.breaker, [N.ATTR_BREAKER_STATE]: error.state };
    if (callSpan?.isRecording()) {
      callSpan.addEvent(N.EVENT_BREAKER_REJECTED, eventAttrs);
      callSpan.setAttribute(N.SEMCONV.errorType, N.ERROR_TYPE_CIRCUIT_OPEN);
      return;
    }
    const attributes: Attributes = {
      [N.SEMCONV.dbSystemName]: call.system,
      [N.SEMCONV.dbNamespace]: call.namespace,
      [N.SEMCONV.dbOperationName]: call.operation,
      [N.SEMCONV.errorType]: N.ERROR_TYPE_CIRCUIT_OPEN,
      [N.ATTR_BREAKER_NAME]: error.breaker,
      [N.SEMCONV.serverAddress]: call.serverAddress,
      [N.SEMCONV.serverPort]: call.serverPort,
    };
    const name = call.namespace ? `${call.operation} ${call.namespace}` : call.operation;
    const span = this.tracer().startSpan(name, { kind: SpanKind.CLIENT, attributes }, this.callContext ?? context.active());
    span.addEvent(N.EVENT_BREAKER_REJECTED, eventAttrs);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    span.end();
  }

  /**
   * Stops emitting transition telemetry. The metric callbacks stay with the meter: the SDK shuts
   * its providers down in parallel with the plugin, and the meter's final collection must still
   * see the breakers' last figures.
   */
  close(): void {
    this.unsubscribe();
  }

  private stateChanged(change: StateChange): void {
    const attributes: Attributes = {
      [N.ATTR_BREAKER_NAME]: change.breaker,
      [N.ATTR_BREAKER_STATE_FROM]: change.from,
      [N.ATTR_BREAKER_STATE_TO]: change.to,
      [N.ATTR_BREAKER_REASON]: change.reason,
      [N.ATTR_BREAKER_FAILURE_RATE]: change.failureRate,
      [N.ATTR_BREAKER_SLOW_CALL_RATE]: change.slowCallRate,
    };
    if (change.retryAt !== undefined) attributes[N.ATTR_BREAKER_RETRY_AT] = new Date(change.retryAt).toISOString();

    trace.getSpan(this.callContext ?? context.active())?.addEvent(N.EVENT_BREAKER_STATE_CHANGE, attributes, change.timestamp);

    // Its own trace (root), so it is findable by name in Jaeger; the links point at the evidence.
    const span = this.tracer().startSpan(N.SPAN_BREAKER_STATE_CHANGE, {
      kind: SpanKind.INTERNAL,
      root: true,
      startTime: change.timestamp,
      attributes,
      links: change.evidence.map((ctx) => ({ context: ctx })),
    });
    span.end();

    eventLogger(this.loggerProvider, N.SCOPE_NAME, this.version)?.emit({
      eventName: N.EVENT_BREAKER_STATE_CHANGE,
      severityNumber: change.to === 'open' ? SEVERITY.WARN : SEVERITY.INFO,
      severityText: change.to === 'open' ? 'WARN' : 'INFO',
      body: `circuit breaker "${change.breaker}" ${change.from} -> ${change.to} (${change.reason})`,
      attributes,
      timestamp: change.timestamp,
    });
  }

  /** The plugin's tracer, from the provider NodeSDK handed over (or the global one). */
  tracer(): Tracer {
    const provider = this.tracerProvider ?? trace.getTracerProvider();
    if (this.cachedTracer?.provider !== provider) this.cachedTracer = { provider, tracer: provider.getTracer(N.SCOPE_NAME, this.version) };
    return this.cachedTracer.tracer;
  }
}
