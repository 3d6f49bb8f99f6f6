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
  dbSystemName: 'db.system.name',
  dbNamespace: 'db.namespace',
  dbOperationName: 'db.operation.name',
  // Rewritten by the redacting span processor (old names too: older instrumentations still set them).
  urlQuery: 'url.query',
  httpUrl: 'http.url',
  httpTarget: 'http.target',
  dbQueryText: 'db.query.text',
  dbStatement: 'db.statement',
  dbSystem: 'db.system',
  exceptionMessage: 'exception.message',
  exceptionStacktrace: 'exception.stacktrace',
  /** Bound values, recorded only when asked (pg's `enhancedDatabaseReporting`; the newer `db.query.parameter.<key>`). */
  dbPostgresqlValues: 'db.postgresql.values',
  dbQueryParameterPrefix: 'db.query.parameter.',
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
/** Counter per component (with an anomaly detector) and metric: `selfheal.anomaly` events so far. */
export const METRIC_ANOMALIES = 'selfheal.anomalies';
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

// Recovery: one trace per recovery
/** Root span of one recovery (its own trace), linked to the spans that showed the failure. */
export const SPAN_RECOVERY = 'selfheal.recovery';
/** Child of `selfheal.recovery` per attempt: one strategy's action, its verification and any rollback. */
export const SPAN_RECOVERY_ATTEMPT = 'selfheal.recovery.attempt';
/** Child of `selfheal.recovery` per verification: health asked to confirm an action. */
export const SPAN_RECOVERY_VERIFY = 'selfheal.recovery.verify';
export const EVENT_RECOVERY_COMPLETED = 'selfheal.recovery.completed';
/** Counter per strategy, failure type and outcome (success, failure, rolled-back). */
export const METRIC_RECOVERY_ATTEMPTS = 'selfheal.recovery.attempts';
/** Gauge per component ever held: 1 while it waits for a person to `acknowledge()` it, else 0. */
export const METRIC_RECOVERY_ON_HOLD = 'selfheal.recovery.on_hold';
export const ATTR_RECOVERY_FAILURE_TYPE = 'selfheal.recovery.failure_type';
/** `recovered`, `escalated`, `manual-intervention`, `skipped` or `cancelled`. */
export const ATTR_RECOVERY_OUTCOME = 'selfheal.recovery.outcome';
/** Why a recovery was skipped, escalated or cancelled (e.g. `dependency-not-recovered`). */
export const ATTR_RECOVERY_REASON = 'selfheal.recovery.reason';
/** The strategies tried, in order, each once. */
export const ATTR_RECOVERY_STRATEGIES = 'selfheal.recovery.strategies';
export const ATTR_RECOVERY_ROLLED_BACK = 'selfheal.recovery.rolled_back';
/** What set the recovery off: `health`, `request` or `dependency`. */
export const ATTR_RECOVERY_TRIGGER = 'selfheal.recovery.trigger';
/** The failure type of the plan used (`*` for the default plan). */
export const ATTR_RECOVERY_PLAN = 'selfheal.recovery.plan';
export const ATTR_RECOVERY_ATTEMPT_COUNT = 'selfheal.recovery.attempt_count';
export const ATTR_RECOVERY_DURATION = 'selfheal.recovery.duration_ms';
export const ATTR_RECOVERY_STRATEGY = 'selfheal.recovery.strategy';
/** 1-based number of an attempt within its recovery. */
export const ATTR_RECOVERY_ATTEMPT = 'selfheal.recovery.attempt';
/** 0 for a strategy's first try. */
export const ATTR_RECOVERY_RETRY = 'selfheal.recovery.retry';
export const ATTR_RECOVERY_SUCCESS = 'selfheal.recovery.success';
/** An attempt's error, with credentials and queries taken out of any URL in it. */
export const ATTR_RECOVERY_ERROR = 'selfheal.recovery.error';
export const ATTR_RECOVERY_VERIFIED = 'selfheal.recovery.verified';
/** Where the verification read health: `check`, `monitor` or `none`. */
export const ATTR_RECOVERY_VERIFY_SOURCE = 'selfheal.recovery.verify.source';
/** Prefix of a recovery plan's metadata entries (e.g. `selfheal.recovery.metadata.runbook`). */
export const ATTR_RECOVERY_METADATA_PREFIX = 'selfheal.recovery.metadata.';

// Configuration changes
export const SPAN_CONFIG_APPLY = 'selfheal.config.apply';
export const EVENT_CONFIG_CHANGED = 'selfheal.config.changed';
/** Gauge: the version of the configuration in force. */
export const METRIC_CONFIG_VERSION = 'selfheal.config.version';
export const ATTR_CONFIG_VERSION_FROM = 'selfheal.config.version.from';
export const ATTR_CONFIG_VERSION_TO = 'selfheal.config.version.to';
/** Names of the parameters whose value changed; never their values. */
export const ATTR_CONFIG_CHANGED_KEYS = 'selfheal.config.changed_keys';
/** `static`, `dynamic` or `optimized`. */
export const ATTR_CONFIG_SOURCE = 'selfheal.config.source';
/** Why the version exists: the change kind, `batch`, `rollback`, `load`, ... */
export const ATTR_CONFIG_CAUSE = 'selfheal.config.cause';
/** `applied`, `rolled-back` or `loaded`. */
export const ATTR_CONFIG_CHANGE_TYPE = 'selfheal.config.change_type';
export const ATTR_CONFIG_ROLLED_BACK = 'selfheal.config.rolled_back';
export const ATTR_CONFIG_REASON = 'selfheal.config.reason';
