/**
 * Every name otel-self-heal puts on telemetry. This file is the contract documented in the
 * README ("Telemetry names"); nothing outside `telemetry/` spells one of these strings.
 */

/** Instrumentation scope of everything the plugin emits. */
export const SCOPE_NAME = 'otel-self-heal';

// Spans
/** Short INTERNAL span per breaker transition, linked to the failed calls that caused it. */
export const SPAN_BREAKER_STATE_CHANGE = 'selfheal.breaker.state_change';

// Span events (on the affected call's span) and log events (`event.name`)
export const EVENT_BREAKER_REJECTED = 'selfheal.breaker.rejected';
export const EVENT_BREAKER_STATE_CHANGE = 'selfheal.breaker.state_change';

// Metrics
/** Gauge per breaker: 0 closed, 1 half-open, 2 open. */
export const METRIC_BREAKER_STATE = 'selfheal.breaker.state';
/** Counter per breaker and outcome (success, failure, rejected, fallback). */
export const METRIC_BREAKER_CALLS = 'selfheal.breaker.calls';

// Attributes
export const ATTR_BREAKER_NAME = 'selfheal.breaker.name';
export const ATTR_BREAKER_STATE = 'selfheal.breaker.state';
export const ATTR_BREAKER_STATE_FROM = 'selfheal.breaker.state.from';
export const ATTR_BREAKER_STATE_TO = 'selfheal.breaker.state.to';
export const ATTR_BREAKER_REASON = 'selfheal.breaker.reason';
export const ATTR_BREAKER_FAILURE_RATE = 'selfheal.breaker.failure_rate';
export const ATTR_BREAKER_SLOW_CALL_RATE = 'selfheal.breaker.slow_call_rate';
export const ATTR_BREAKER_RETRY_AT = 'selfheal.breaker.retry_at';
export const ATTR_OUTCOME = 'selfheal.outcome';

/** Semantic-convention attributes we read or write (stable names). */
export const SEMCONV = {
  errorType: 'error.type',
  httpRequestMethod: 'http.request.method',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  urlFull: 'url.full',
} as const;

/** `error.type` of a call the breaker refused. */
export const ERROR_TYPE_CIRCUIT_OPEN = 'CircuitOpenError';

// Health, alerts and anomalies
export const EVENT_HEALTH_STATUS_CHANGE = 'selfheal.health.status_change';
export const EVENT_ALERT = 'selfheal.alert';
export const EVENT_ANOMALY = 'selfheal.anomaly';
/** Gauge per component: 0 healthy, 1 degraded, 2 critical, 3 failed. */
export const METRIC_COMPONENT_HEALTH = 'selfheal.component.health';
/** Gauge per component: the latest anomaly score of its latency, 0..1. */
export const METRIC_ANOMALY_SCORE = 'selfheal.anomaly.score';
export const ATTR_COMPONENT_NAME = 'selfheal.component.name';
export const ATTR_COMPONENT_KIND = 'selfheal.component.kind';
export const ATTR_HEALTH_FROM = 'selfheal.health.from';
export const ATTR_HEALTH_TO = 'selfheal.health.to';
export const ATTR_HEALTH_REASON = 'selfheal.health.reason';
export const ATTR_ERROR_RATE = 'selfheal.health.error_rate';
export const ATTR_RESPONSE_TIME = 'selfheal.health.response_time_ms';
export const ATTR_ALERT_SEVERITY = 'selfheal.alert.severity';
export const ATTR_ANOMALY_METRIC = 'selfheal.anomaly.metric';
export const ATTR_ANOMALY_VALUE = 'selfheal.anomaly.value';
export const ATTR_ANOMALY_SCORE = 'selfheal.anomaly.score';
