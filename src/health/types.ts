/** Spec 2.2.4 `HealthStatus`, as a discriminated union. */
export type HealthStatus =
  | { readonly kind: 'healthy' }
  | { readonly kind: 'degraded'; readonly reason: string }
  | { readonly kind: 'critical'; readonly reason: string }
  | { readonly kind: 'failed'; readonly reason: string };

export type HealthLevel = HealthStatus['kind'];

/** Severity order of the levels, worst last; also the `selfheal.component.health` gauge value. */
export const LEVEL_VALUE: Readonly<Record<HealthLevel, number>> = { healthy: 0, degraded: 1, critical: 2, failed: 3 };

export const HEALTHY: HealthStatus = Object.freeze({ kind: 'healthy' });

/** Spec 2.2.4 `HealthMetrics`. Rates are 0..1, times in milliseconds, throughput in calls per second. */
export interface HealthMetrics {
  readonly timestamp: number;
  /** Share of a CPU (0..1) the component uses, when known. */
  readonly cpuUsage?: number;
  /** Share (0..1) of its memory budget the component uses, when known. */
  readonly memoryUsage?: number;
  /** Response time, ms (p95 for span-driven components). */
  readonly responseTime?: number;
  /** Failed share of calls, 0..1. */
  readonly errorRate?: number;
  /** Calls per second. */
  readonly throughput?: number;
  readonly customMetrics?: Readonly<Record<string, number>>;
}

/** Spec 2.2.4 `SystemSignal`. */
export type SystemSignal =
  | { readonly kind: 'check-health' }
  | { readonly kind: 'component-updated'; readonly component: string }
  | { readonly kind: 'adjust-monitor-rate'; readonly intervalMs: number }
  | { readonly kind: 'update-alert-thresholds'; readonly thresholds: Partial<HealthThresholds> }
  | { readonly kind: 'shutdown' };

/** Levels at which a metric makes a component degraded, critical or failed (each optional). */
export interface LevelThresholds {
  readonly degraded?: number;
  readonly critical?: number;
  readonly failed?: number;
}

/** What classifies a component's metrics into a status. */
export interface HealthThresholds {
  /** Failed share of calls. Default degraded 0.05, critical 0.25, failed 0.5. */
  readonly errorRate: LevelThresholds;
  /** Response time (p95), ms. Default degraded 1000, critical 5000, failed none. */
  readonly responseTime: LevelThresholds;
  /** CPU share 0..1. Default degraded 0.8, critical 0.95. */
  readonly cpuUsage: LevelThresholds;
  /** Memory share 0..1. Default degraded 0.8, critical 0.95. */
  readonly memoryUsage: LevelThresholds;
}

export type AlertSeverity = 'info' | 'warning' | 'critical';

/** An alert raised by the health monitor. */
export interface Alert {
  readonly severity: AlertSeverity;
  readonly component: string;
  readonly status: HealthStatus;
  readonly previous: HealthStatus;
  readonly message: string;
  readonly timestamp: number;
}

/** One component's status change, as listeners see it. */
export interface HealthChange {
  readonly component: string;
  readonly from: HealthStatus;
  readonly to: HealthStatus;
  readonly metrics: HealthMetrics;
  readonly timestamp: number;
}
