import { z } from 'zod';
import { ConfigValidationError, parseOptions } from '../config/index.js';

const fraction = (hint: string) =>
  z
    .number({ error: `must be a number between 0 and 1 (${hint})` })
    .min(0, { error: `must be between 0 and 1 (${hint})` })
    .max(1, { error: `must be between 0 and 1 (${hint})` });

const positiveInt = (hint: string) =>
  z
    .number({ error: `must be a whole number (${hint})` })
    .int({ error: `must be a whole number (${hint})` })
    .min(1, { error: `must be at least 1 (${hint})` });

const millis = (hint: string) =>
  z
    .number({ error: `must be a number of milliseconds (${hint})` })
    .finite({ error: `must be a finite number of milliseconds (${hint})` })
    .min(0, { error: `must be 0 or more milliseconds (${hint})` });

/**
 * Options of one circuit breaker. Every field is optional; the defaults are in
 * {@link DEFAULT_BREAKER_OPTIONS}. Spec 2.3.4 `CircuitBreakerConfig` names are kept where they
 * exist (`failureThreshold`, `resetTimeout`, `halfOpenRequestLimit`, `halfOpenSuccessThreshold`,
 * `windowSize`); `minimumRequests` is the spec's `min_request_threshold`.
 */
export const breakerOptionsSchema = z
  .object({
    /** Failure rate (0..1) at or above which the circuit opens. Default 0.5. */
    failureThreshold: fraction('0.5 means open when half the calls fail'),
    /** Calls the window must hold before any rate is judged. Default 10. */
    minimumRequests: positiveInt('e.g. 10: no decision on fewer calls'),
    /** How long the circuit stays open before letting probes through, in ms. Default 5000. */
    resetTimeout: millis('e.g. 5000'),
    /** Growth of the open interval on each consecutive trip (1 = no backoff). Default 2. */
    backoffMultiplier: z
      .number({ error: 'must be a number of at least 1 (1 turns backoff off)' })
      .min(1, { error: 'must be at least 1 (1 turns backoff off)' }),
    /** Upper bound of the open interval after backoff, in ms. Default 60000. */
    maxResetTimeout: millis('e.g. 60000'),
    /** Fraction of the open interval taken off at random, so many breakers do not probe in step. Default 0.2. */
    jitter: fraction('0.2 shortens each open interval by up to 20%'),
    /** Probes let through in half-open before a decision. Default 5. */
    halfOpenRequestLimit: positiveInt('e.g. 5 probe calls'),
    /** Share of the probes that must succeed to close again. Default 0.6. */
    halfOpenSuccessThreshold: fraction('0.6 means 3 of 5 probes must succeed'),
    /** `count`: the last `windowSize` calls; `time`: the calls of the last `windowSize` seconds. Default `count`. */
    windowType: z.enum(['count', 'time'], { error: "must be 'count' or 'time'" }),
    /** Calls (count window) or seconds (time window) the failure rate is computed over. Default 100. */
    windowSize: positiveInt('calls for a count window, seconds for a time window').max(100_000, {
      error: 'must be at most 100000',
    }),
    /** Rate (0..1) of slow calls at or above which the circuit opens; 1 turns the rule off. Default 1 (off). */
    slowCallRateThreshold: fraction('1 turns the slow-call rule off'),
    /** A call at least this long, in ms, counts as slow. Default 10000. */
    slowCallDurationThreshold: millis('e.g. 2000'),
  })
  .strict();

/** Options of one circuit breaker; every field is optional (defaults in {@link DEFAULT_BREAKER_OPTIONS}). */
export interface BreakerOptions {
  /** Failure rate (0..1) at or above which the circuit opens. Default 0.5. */
  failureThreshold?: number;
  /** Calls the window must hold before any rate is judged (spec `min_request_threshold`). Default 10. */
  minimumRequests?: number;
  /** Milliseconds the circuit stays open before letting probes through. Default 5000. */
  resetTimeout?: number;
  /** Growth of the open interval on each consecutive trip; 1 turns backoff off. Default 2. */
  backoffMultiplier?: number;
  /** Upper bound of the open interval after backoff, in milliseconds. Default 60000. */
  maxResetTimeout?: number;
  /** Share (0..1) of the open interval taken off at random, so breakers do not probe in step. Default 0.2. */
  jitter?: number;
  /** Probes let through in half-open before a decision. Default 5. */
  halfOpenRequestLimit?: number;
  /** Share (0..1) of the probes that must succeed to close again. Default 0.6. */
  halfOpenSuccessThreshold?: number;
  /** `count`: the last `windowSize` calls; `time`: the calls of the last `windowSize` seconds. Default `count`. */
  windowType?: 'count' | 'time';
  /** Calls (count window) or seconds (time window) the rates are computed over. Default 100. */
  windowSize?: number;
  /** Slow-call rate (0..1) at or above which the circuit opens; 1 turns the rule off. Default 1. */
  slowCallRateThreshold?: number;
  /**
   * Milliseconds (to the response headers, for HTTP) that make a call slow. Also how long a
   * half-open probe may stay unanswered before it counts as failed. Default 10000.
   */
  slowCallDurationThreshold?: number;
}

// The interface above is what users read; these two lines keep it and the schema in step.
const _schemaMatchesInterface: Required<BreakerOptions> = {} as z.output<typeof breakerOptionsSchema>;
const _interfaceMatchesSchema: z.input<typeof breakerOptionsSchema> = {} as Required<BreakerOptions>;
void _schemaMatchesInterface;
void _interfaceMatchesSchema;

/** The options after defaults and validation; shared (frozen) by every breaker created from them. */
export interface ResolvedBreakerOptions extends Readonly<Required<BreakerOptions>> {
  /** Whether a call's duration must be measured (the slow-call rule is on). */
  readonly timed: boolean;
  /** Successful probes needed to close from half-open. */
  readonly probesToClose: number;
}

export const DEFAULT_BREAKER_OPTIONS: Readonly<Required<BreakerOptions>> = Object.freeze({
  failureThreshold: 0.5,
  minimumRequests: 10,
  resetTimeout: 5_000,
  backoffMultiplier: 2,
  maxResetTimeout: 60_000,
  jitter: 0.2,
  halfOpenRequestLimit: 5,
  halfOpenSuccessThreshold: 0.6,
  windowType: 'count',
  windowSize: 100,
  slowCallRateThreshold: 1,
  slowCallDurationThreshold: 10_000,
});

const partialSchema = breakerOptionsSchema.partial();

/** Validates `options` (a partial set) over `base` and returns the frozen, complete result. */
export function resolveBreakerOptions(
  options: unknown,
  base: Readonly<Required<BreakerOptions>> = DEFAULT_BREAKER_OPTIONS,
  prefix = 'breaker',
): ResolvedBreakerOptions {
  const parsed = parseOptions(partialSchema, options ?? {}, prefix);
  const merged = { ...base } as Required<BreakerOptions>;
  for (const [k, v] of Object.entries(parsed)) if (v !== undefined) (merged as Record<string, unknown>)[k] = v;
  const problems: string[] = [];
  if (merged.windowType === 'count' && merged.minimumRequests > merged.windowSize) {
    problems.push(
      `${prefix}.minimumRequests (${merged.minimumRequests}) must not exceed ${prefix}.windowSize (${merged.windowSize}) for a count window, or the circuit can never open: raise windowSize or lower minimumRequests`,
    );
  }
  if (merged.maxResetTimeout < merged.resetTimeout) {
    problems.push(
      `${prefix}.maxResetTimeout (${merged.maxResetTimeout}) must be at least ${prefix}.resetTimeout (${merged.resetTimeout})`,
    );
  }
  if (problems.length) {
    throw new ConfigValidationError(problems.map((message) => ({ path: prefix, message })));
  }
  // A literal in one fixed order, so every resolved options object shares one hidden class:
  // spreads of spreads got a new one per breaker (~600 B each, and megamorphic reads in settle).
  return Object.freeze({
    failureThreshold: merged.failureThreshold,
    minimumRequests: merged.minimumRequests,
    resetTimeout: merged.resetTimeout,
    backoffMultiplier: merged.backoffMultiplier,
    maxResetTimeout: merged.maxResetTimeout,
    jitter: merged.jitter,
    halfOpenRequestLimit: merged.halfOpenRequestLimit,
    halfOpenSuccessThreshold: merged.halfOpenSuccessThreshold,
    windowType: merged.windowType,
    windowSize: merged.windowSize,
    slowCallRateThreshold: merged.slowCallRateThreshold,
    slowCallDurationThreshold: merged.slowCallDurationThreshold,
    timed: merged.slowCallRateThreshold < 1,
    probesToClose: probesToClose(merged.halfOpenSuccessThreshold, merged.halfOpenRequestLimit),
  });
}

let defaultsResolved: ResolvedBreakerOptions | undefined;

/** The defaults, resolved once and shared by every breaker created without options. */
export function defaultResolvedOptions(): ResolvedBreakerOptions {
  return (defaultsResolved ??= resolveBreakerOptions({}));
}

/**
 * The fewest successful probes whose share `k / limit` reaches `threshold` (at least 1).
 * `Math.ceil(threshold * limit)` alone is off by one when the product rounds past an integer
 * (0.55 * 100 = 55.00000000000001), so the candidate is checked as a share, as rates are.
 */
function probesToClose(threshold: number, limit: number): number {
  let k = Math.ceil(threshold * limit);
  if (k > 0 && (k - 1) / limit >= threshold) k--;
  else if (k < limit && k / limit < threshold) k++;
  return Math.max(1, k);
}
