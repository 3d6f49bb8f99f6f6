import type { HealthMetrics, HealthStatus } from '../types.js';

/**
 * An active health check. It should give up (and close what it opened) when `signal` aborts: the
 * runner aborts it at its timeout, and at `stop()`.
 *
 * What it resolves with is the reading: nothing or `true` is healthy, `false` is failed, a
 * {@link HealthStatus} is taken as it is, {@link HealthMetrics} are classified against the
 * monitor's thresholds. A thrown error, a rejection or a timeout is a failed reading whose reason
 * is the error's message.
 */
export type HealthCheck = (signal: AbortSignal) => Promise<HealthStatus | HealthMetrics | boolean | void>;

/** One run of a check, as the runner reports it. */
export interface CheckResult {
  /** The reading: the check's own status, its metrics classified, or failed. */
  readonly status: HealthStatus;
  /** The metrics the check returned, if it returned metrics. */
  readonly metrics: HealthMetrics | undefined;
  /** When the run started (clock ms). */
  readonly timestamp: number;
  /** How long the run took until its result was known, ms (the timeout, for a timed-out run). */
  readonly durationMs: number;
  /** True when the run was cut off by its timeout. */
  readonly timedOut: boolean;
}

/** Counters of one runner since it was created. */
export interface CheckRunnerStats {
  /** Runs started. */
  readonly runs: number;
  /** Runs not started because the previous one was still in flight (ticks and `runNow()` calls). */
  readonly skipped: number;
  /** Runs cut off by their timeout. */
  readonly timedOut: number;
  /** Duration of the last run whose result is known, ms (undefined before the first). */
  readonly lastDurationMs: number | undefined;
}
