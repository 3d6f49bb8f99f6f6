import type { CircuitBreaker, CircuitBreakerRegistry, CircuitState } from '../breaker/index.js';
import type { AdaptiveConfigManager, ConfigSource, ConfigValue } from '../config/adaptive/index.js';
import type { ComponentKind, HealthLevel, HealthMonitor, HealthStatus } from '../health/index.js';
import type { RecoveryManager } from '../recovery/index.js';
import { looksSecret, redactUrls } from './redact.js';
import type { RecoveryView } from './RecoveryLog.js';

/** What the status server reads; the running plugin (`SelfHealing`) fits. */
export interface StatusSource {
  readonly breakers: Pick<CircuitBreakerRegistry, 'list' | 'find' | 'onStateChange' | 'size'>;
  readonly health: Pick<HealthMonitor, 'list' | 'component' | 'systemHealth' | 'readiness' | 'onChange'>;
  readonly recovery: Pick<RecoveryManager, 'on' | 'stats'>;
  readonly config: Pick<AdaptiveConfigManager, 'currentConfig' | 'isSensitive' | 'onChange'>;
}

/** What the page and `/api/status` show instead of a sensitive configuration value. */
export const HIDDEN_VALUE = '[redacted]';
/** Rows per list at most, worst first: 10,000 breakers must not make a 2 MB page. */
export const MAX_ROWS = 200;

export interface BreakerView {
  readonly name: string;
  readonly state: CircuitState;
  /** Failed share of the calls in the window, 0..1. */
  readonly failureRate: number;
  readonly slowCallRate: number;
  /** Calls in the window. */
  readonly calls: number;
  /** Totals since the breaker was made. */
  readonly successes: number;
  readonly failures: number;
  readonly rejections: number;
  /** When an open breaker lets probes through (epoch ms); null otherwise or while forced open. */
  readonly retryAt: number | null;
}

export interface ComponentView {
  readonly name: string;
  readonly kind: ComponentKind;
  readonly status: HealthLevel;
  readonly reason?: string;
  readonly errorRate?: number;
  /** ms (p95 for span-driven components). */
  readonly responseTime?: number;
  /** Calls per second. */
  readonly throughput?: number;
}

export interface StatusSnapshot {
  readonly timestamp: number;
  readonly version: string;
  readonly system: { readonly status: HealthLevel; readonly reason?: string; readonly ready: boolean; readonly counts: Readonly<Record<HealthLevel, number>> };
  readonly breakers: readonly BreakerView[];
  readonly breakersTotal: number;
  readonly components: readonly ComponentView[];
  readonly componentsTotal: number;
  /** Newest first. */
  readonly recoveries: readonly RecoveryView[];
  readonly recoveryStats: { readonly inFlight: number; readonly onHold: readonly string[] };
  readonly config: { readonly version: number; readonly source: ConfigSource; readonly timestamp: number; readonly parameters: Readonly<Record<string, ConfigValue>> };
  /** The genetic optimizer is not built yet: it never runs. */
  readonly optimizer: { readonly running: false };
  /** Jaeger UI address for trace links, when configured. */
  readonly jaegerUrl?: string;
}

const STATE_ORDER: Readonly<Record<CircuitState, number>> = { open: 0, 'half-open': 1, closed: 2 };
const LEVEL_ORDER: Readonly<Record<HealthLevel, number>> = { failed: 0, critical: 1, degraded: 2, healthy: 3 };

export function breakerView(b: CircuitBreaker): BreakerView {
  const s = b.toJSON(); // never moves an open breaker to half-open
  return {
    name: s.name,
    state: s.state,
    failureRate: s.failureRate,
    slowCallRate: s.slowCallRate,
    calls: s.windowCalls,
    successes: s.successes,
    failures: s.failures,
    rejections: s.rejections,
    retryAt: s.retryAt,
  };
}

export function statusText(s: HealthStatus): { status: HealthLevel; reason?: string } {
  return s.kind === 'healthy' ? { status: 'healthy' } : { status: s.kind, reason: redactUrls(s.reason) };
}

export function componentView(c: { name: string; kind: ComponentKind; status: HealthStatus; metrics: { errorRate?: number; responseTime?: number; throughput?: number } }): ComponentView {
  const m = c.metrics;
  return {
    name: c.name,
    kind: c.kind,
    ...statusText(c.status),
    ...(m.errorRate === undefined ? {} : { errorRate: m.errorRate }),
    ...(m.responseTime === undefined ? {} : { responseTime: m.responseTime }),
    ...(m.throughput === undefined ? {} : { throughput: m.throughput }),
  };
}

/** The service's own status (its routes and custom components) and readiness. */
export function systemView(health: StatusSource['health']): StatusSnapshot['system'] {
  const system = health.systemHealth();
  return { ...statusText(system.status), ready: health.readiness().ready, counts: system.counts };
}

/** The configuration in force, sensitive values (and values of secret-looking keys) hidden. */
export function configView(config: StatusSource['config']): StatusSnapshot['config'] {
  const c = config.currentConfig();
  const parameters: Record<string, ConfigValue> = {};
  for (const key of Object.keys(c.parameters).sort()) {
    parameters[key] = config.isSensitive(key) || looksSecret(key) ? HIDDEN_VALUE : c.parameters[key]!;
  }
  return { version: c.version, source: c.source, timestamp: c.timestamp, parameters };
}

/** Everything the page shows, in one JSON-ready object. Cold path: built per request or tick. */
export function buildSnapshot(source: StatusSource, recoveries: readonly RecoveryView[], version: string, jaegerUrl: string | undefined): StatusSnapshot {
  const breakers = source.breakers
    .list()
    .map(breakerView)
    .sort((a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const components = source.health
    .list()
    .map(componentView)
    .sort((a, b) => LEVEL_ORDER[a.status] - LEVEL_ORDER[b.status] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const stats = source.recovery.stats();
  return {
    timestamp: Date.now(),
    version,
    system: systemView(source.health),
    breakers: breakers.slice(0, MAX_ROWS),
    breakersTotal: breakers.length,
    components: components.slice(0, MAX_ROWS),
    componentsTotal: components.length,
    recoveries,
    recoveryStats: { inFlight: stats.inFlight, onHold: stats.onHold },
    config: configView(source.config),
    optimizer: { running: false },
    ...(jaegerUrl ? { jaegerUrl } : {}),
  };
}
