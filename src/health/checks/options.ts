import { z } from 'zod';
import type { Clock } from '../../clock.js';
import type { HealthMetrics, HealthStatus } from '../types.js';

/** The longest delay Node's timers take (2^31 - 1 ms, about 24.8 days); a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;

/** Milliseconds for a timer: at least 1, at most {@link MAX_TIMER_MS}. */
export const timerMillis = (hint: string) =>
  z
    .number({ error: `must be a number of milliseconds (${hint})` })
    .min(1, { error: `must be at least 1 ms (${hint})` })
    .max(MAX_TIMER_MS, { error: `must be at most ${MAX_TIMER_MS} ms (the longest Node timer)` });

export const clockSchema = z.custom<Clock>((v) => typeof v === 'object' && v !== null && typeof (v as Clock).now === 'function', {
  error: 'must be an object with a now() method returning milliseconds',
});

export const intervalMsSchema = timerMillis('e.g. 10000 for a check every 10 s');
export const timeoutMsSchema = timerMillis('e.g. 100: the spec wants checks done within 100 ms');

export const checkRunnerOptionsSchema = z
  .object({
    intervalMs: intervalMsSchema.optional(),
    timeoutMs: timeoutMsSchema.optional(),
    classify: z
      .custom<(metrics: HealthMetrics) => HealthStatus>((v) => typeof v === 'function', { error: 'must be a function (metrics) => status' })
      .optional(),
    clock: clockSchema.optional(),
  })
  .strict();

/** Options of a {@link CheckRunner}; every field is optional. */
export interface CheckRunnerOptions {
  /** Time between two runs, ms. Default 10000. */
  intervalMs?: number;
  /** Time a run may take before it counts as failed and its signal is aborted, ms. Default 100 (spec 2.2.5). */
  timeoutMs?: number;
  /** Turns the metrics a check returns into a status. Default: `classify` with the default thresholds. */
  classify?: (metrics: HealthMetrics) => HealthStatus;
  /** Source of the timestamps and durations. Default `Date.now`. */
  clock?: Clock;
}

export const DEFAULT_INTERVAL_MS = 10_000;
export const DEFAULT_TIMEOUT_MS = 100;
