import { z } from 'zod';
import { systemClock, type Clock } from '../../clock.js';
import { parseOptions } from '../../config/index.js';

const int = (hint: string, min: number, max: number) =>
  z
    .number({ error: `must be a whole number (${hint})` })
    .int({ error: `must be a whole number (${hint})` })
    .min(min, { error: `must be at least ${min} (${hint})` })
    .max(max, { error: `must be at most ${max} (${hint})` });

const levelSchema = z
  .object({
    /** Width of one bucket, ms. */
    bucketMs: int('milliseconds per bucket, e.g. 1000', 10, 86_400_000),
    /** Buckets kept; the level covers bucketMs × buckets. */
    buckets: int('buckets kept, e.g. 60', 1, 3_600),
  })
  .strict();

/** One time resolution: `buckets` buckets of `bucketMs` each, the newest being the current one. */
export interface CollectorLevel {
  /** Width of one bucket in ms (10 .. 86,400,000). */
  bucketMs: number;
  /** Buckets kept (1 .. 3,600); the level covers `bucketMs × buckets`. */
  buckets: number;
}

export const metricsCollectorOptionsSchema = z
  .object({
    maxSeries: int('e.g. 10000', 1, 1_000_000),
    maxNames: int('e.g. 1000', 1, 100_000),
    maxTagsPerSeries: int('e.g. 16', 0, 64),
    maxTagLength: int('characters, e.g. 128', 1, 4_096),
    maxMemoryBytes: int('bytes, e.g. 50000000', 1_000_000, 2 ** 40),
    levels: z
      .array(levelSchema, { error: 'must be a list of { bucketMs, buckets }' })
      .min(1, { error: 'must hold at least one level' })
      .max(4, { error: 'must hold at most 4 levels' })
      .refine(
        (levels) => levels.every((l, i) => i === 0 || (l.bucketMs > levels[i - 1]!.bucketMs && l.bucketMs * l.buckets >= levels[i - 1]!.bucketMs * levels[i - 1]!.buckets)),
        { error: 'must go from finest to coarsest: each level wider buckets and a span at least as long as the one before' },
      ),
    relativeAccuracy: z
      .number({ error: 'must be a number between 0.001 and 0.2 (e.g. 0.01 for 1 %)' })
      .min(0.001, { error: 'must be at least 0.001' })
      .max(0.2, { error: 'must be at most 0.2' }),
    maxSketchBins: int('bins per bucket sketch, e.g. 256', 16, 4_096),
    trendMinChange: z
      .number({ error: 'must be a number of at least 0 (share of the mean level, e.g. 0.05)' })
      .min(0, { error: 'must be 0 or more (share of the mean level, e.g. 0.05)' })
      .max(100, { error: 'must be at most 100' }),
    clock: z.custom<Clock>((v) => typeof (v as { now?: unknown } | null)?.now === 'function', {
      error: 'must be an object with a now() method returning epoch milliseconds',
    }),
  })
  .strict();

/** Options of a {@link MetricsCollector}; every field is optional. */
export interface MetricsCollectorOptions {
  /** Tagged and untagged series held at most; later tag sets go to the name's overflow series. Default 10,000. */
  maxSeries?: number;
  /** Distinct metric names at most; values of later names are dropped. Default 1,000. */
  maxNames?: number;
  /** Tags per series at most; a larger tag set goes to the overflow series. Default 16. */
  maxTagsPerSeries?: number;
  /** Tag keys and values longer than this (characters) are cut. Default 128. */
  maxTagLength?: number;
  /**
   * Budget for the collector's state, in bytes (an estimate within a few % of the measured heap,
   * see bench/health-metrics.mjs). Past it, down to 90 %: buckets that left their window are
   * freed, then every series' oldest history is dropped (never what the finest level spans),
   * then the least recently written series are evicted.
   * Default 50,000,000 (spec 2.6.5: under 50 MB of metric history).
   */
  maxMemoryBytes?: number;
  /**
   * Time resolutions, finest first; every value is written to each. Default
   * `[{ bucketMs: 1000, buckets: 60 }, { bucketMs: 10000, buckets: 60 }, { bucketMs: 60000, buckets: 60 }]`:
   * the last minute per second (real-time), the last 10 minutes per 10 s, the last hour per minute (historical).
   */
  levels?: CollectorLevel[];
  /** Relative error of p50/p95/p99 (0.001 .. 0.2). Default 0.01 (1 %). */
  relativeAccuracy?: number;
  /**
   * Bins per bucket sketch (16 .. 4096). With the default accuracy 256 bins cover a 167× spread of
   * values within one bucket at full accuracy; values lower than that are merged into the lowest
   * bin (p95/p99 keep their accuracy, min and avg stay exact). A store only grows as wide as its
   * values' spread needs. Default 256.
   */
  maxSketchBins?: number;
  /**
   * A trend is reported only when the fitted change across the range is at least this share of
   * the mean level (besides being statistically significant). Default 0.05 (5 %).
   */
  trendMinChange?: number;
  /** Time source (epoch ms); default `Date.now`. Tests pass a fake. */
  clock?: Clock;
}

export type ResolvedMetricsCollectorOptions = Readonly<
  Required<Omit<MetricsCollectorOptions, 'levels'>> & { levels: ReadonlyArray<Readonly<CollectorLevel>> }
>;

export const DEFAULT_METRICS_COLLECTOR_OPTIONS: ResolvedMetricsCollectorOptions = Object.freeze({
  maxSeries: 10_000,
  maxNames: 1_000,
  maxTagsPerSeries: 16,
  maxTagLength: 128,
  maxMemoryBytes: 50_000_000,
  levels: Object.freeze([
    Object.freeze({ bucketMs: 1_000, buckets: 60 }),
    Object.freeze({ bucketMs: 10_000, buckets: 60 }),
    Object.freeze({ bucketMs: 60_000, buckets: 60 }),
  ]),
  relativeAccuracy: 0.01,
  maxSketchBins: 256,
  trendMinChange: 0.05,
  clock: systemClock,
});

const partialSchema = metricsCollectorOptionsSchema.partial();

/**
 * Validates `options` over the defaults; throws a ConfigValidationError naming the field
 * (e.g. `metrics.maxSeries must be at least 1 (e.g. 10000), got 0`).
 */
export function resolveMetricsCollectorOptions(options?: unknown, prefix = 'metrics'): ResolvedMetricsCollectorOptions {
  const parsed = parseOptions(partialSchema, options ?? {}, prefix);
  const merged: Record<string, unknown> = { ...DEFAULT_METRICS_COLLECTOR_OPTIONS };
  for (const [k, v] of Object.entries(parsed)) if (v !== undefined) merged[k] = v;
  if (parsed.levels) merged.levels = Object.freeze(parsed.levels.map((l) => Object.freeze({ ...l })));
  return Object.freeze(merged) as ResolvedMetricsCollectorOptions;
}
