import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { HealthLevel, HealthStatus } from '../health/index.js';
import { MAX_DELAY_MS } from './plan.js';
import type { RecoveryPlan } from './types.js';

/** Options of a {@link RecoveryManager}; every field is optional. */
export interface RecoveryManagerOptions {
  /** Plans per failure type (a `*` plan replaces the built-in default plan). Validated all together. */
  plans?: RecoveryPlan[];
  /** Recoveries acting at once, all components together. Default 4. */
  maxConcurrent?: number;
  /** How long health has to confirm an action when its plan does not say, ms. Default 2000. */
  verifyWindowMs?: number;
  /** Time between two `checkHealth` calls while verifying, ms. Default 100. */
  verifyIntervalMs?: number;
  /** The level that counts as recovered: `degraded` (degraded or better) or `healthy`. Default `degraded`. */
  recoveredAt?: 'healthy' | 'degraded';
  /** Time an action (or an undo, or one health check) may take before it fails, ms. Default 5000. */
  actionTimeoutMs?: number;
  /** Share (0..1) of a retry's backoff taken off at random. Default 0.5. */
  jitter?: number;
  /** Longest wait between retries, ms. Default 30000. */
  maxRetryDelayMs?: number;
  /** Random wait (0..this) before a recovery's first action, ms, to spread a fleet's restarts. Default 0. */
  startJitterMs?: number;
  /** Probability (0..1) that a random strategy goes first instead of the best-scoring one. Default 0.1. */
  exploration?: number;
  /** Health levels of an attached monitor that start a recovery. Default `['failed', 'critical']`. */
  triggerOn?: Array<Exclude<HealthLevel, 'healthy'>>;
  /** Attempts kept by `history()`. Default 1000. */
  historySize?: number;
  /** The failure type of a status from an attached monitor. Default `failureTypeOf` (from the status reason). */
  failureType?: (status: HealthStatus) => string;
  /** Source of timestamps. Default `Date.now`. */
  clock?: Clock;
  /** Source of randomness (exploration, jitter), e.g. a seeded generator in tests. Default `Math.random`. */
  random?: () => number;
}

const fn = (hint: string) => z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', { error: `must be a function ${hint}` });
const ms = (hint: string, min = 0) =>
  z
    .number({ error: `must be a number of milliseconds (${hint})` })
    .min(min, { error: `must be at least ${min} ms (${hint})` })
    .max(MAX_DELAY_MS, { error: `must be at most ${MAX_DELAY_MS} ms (the longest Node timer)` });
const share = z.number({ error: 'must be a number from 0 to 1' }).min(0, { error: 'must be from 0 to 1' }).max(1, { error: 'must be from 0 to 1' });

export const managerOptionsSchema = z
  .object({
    plans: z.unknown().optional(), // checked by resolvePlans, which names each plan
    maxConcurrent: z
      .number({ error: 'must be a whole number of at least 1' })
      .int({ error: 'must be a whole number of at least 1' })
      .min(1, { error: 'must be a whole number of at least 1' })
      .optional(),
    verifyWindowMs: ms('e.g. 2000').optional(),
    verifyIntervalMs: ms('e.g. 100', 1).optional(),
    recoveredAt: z.enum(['healthy', 'degraded'], { error: "must be 'healthy' or 'degraded'" }).optional(),
    actionTimeoutMs: ms('e.g. 5000', 1).optional(),
    jitter: share.optional(),
    maxRetryDelayMs: ms('e.g. 30000').optional(),
    startJitterMs: ms('e.g. 50').optional(),
    exploration: share.optional(),
    triggerOn: z
      .array(z.enum(['degraded', 'critical', 'failed'], { error: "must be 'degraded', 'critical' or 'failed'" }), {
        error: "must be a list of levels, e.g. ['failed', 'critical']",
      })
      .optional(),
    historySize: z
      .number({ error: 'must be a whole number of attempts' })
      .int({ error: 'must be a whole number of attempts' })
      .min(0, { error: 'must be 0 or more' })
      .max(1_000_000, { error: 'must be at most 1000000' })
      .optional(),
    failureType: fn('(status) => string').optional(),
    clock: z
      .custom<Clock>((v) => typeof v === 'object' && v !== null && typeof (v as Clock).now === 'function', {
        error: 'must be an object with a now() method returning milliseconds',
      })
      .optional(),
    random: fn('() => number in [0, 1)').optional(),
  })
  .strict();
