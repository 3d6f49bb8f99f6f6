/**
 * Spec 2.6.4 data structures in TypeScript idiom. Durations are milliseconds, timestamps are
 * epoch milliseconds from the collector's clock.
 */

/** Spec 2.6.2 metric types. A counter's values are increments (≥ 0); a timer's are milliseconds. */
export type MetricType = 'counter' | 'gauge' | 'histogram' | 'timer';

/** Tag set of a series: string keys to string values. */
export type MetricTags = Readonly<Record<string, string>>;

/** One recorded value, as handed to {@link MetricsCollector.subscribe} listeners. */
export interface MetricDataPoint {
  readonly name: string;
  readonly type: MetricType;
  readonly value: number;
  /** Epoch milliseconds (collector clock). */
  readonly timestamp: number;
  /** The series' normalised tags (frozen, shared between points of one series). */
  readonly tags: MetricTags;
}

/**
 * Statistics of one metric over a time range (spec `AggregatedMetric`). `avg`, `min`, `max`,
 * `count` and `sum` are exact; `p50`, `p95` and `p99` come from the sketch and are within the
 * collector's `relativeAccuracy` of a recorded value (and always inside [min, max]).
 */
export interface AggregatedMetric {
  readonly name: string;
  readonly type: MetricType;
  readonly avg: number;
  readonly min: number;
  readonly max: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly count: number;
  readonly sum: number;
  /** The range asked for, in ms (the data covered is aligned to whole buckets, see `bucketMs`). */
  readonly timeRangeMs: number;
  /** Width of the buckets the answer was merged from, in ms. */
  readonly bucketMs: number;
  /** The series' tags, or `{}` when all series of the name were merged. */
  readonly tags: MetricTags;
}

/** Statistics of one time bucket (historical view). */
export interface BucketStats {
  /** Start of the bucket, epoch ms. */
  readonly start: number;
  /** Width of the bucket, ms. */
  readonly durationMs: number;
  readonly count: number;
  readonly sum: number;
  readonly avg: number;
  readonly min: number;
  readonly max: number;
  readonly p95: number;
  readonly p99: number;
}

/** Real-time view: the latest value and the statistics of the current finest bucket. */
export interface RealtimeMetric {
  readonly name: string;
  readonly type: MetricType;
  readonly tags: MetricTags;
  /** The most recent value recorded (for a merged view: of the series written last). */
  readonly last: number;
  /** When `last` was recorded, epoch ms. */
  readonly lastTimestamp: number;
  /** The current finest bucket, or undefined when nothing was recorded in it. */
  readonly current: BucketStats | undefined;
}

/** Historical view: one entry per non-empty bucket, oldest first. */
export interface MetricHistory {
  readonly name: string;
  readonly type: MetricType;
  readonly tags: MetricTags;
  readonly bucketMs: number;
  readonly buckets: readonly BucketStats[];
}

/** Trend of one metric over a range (spec 2.6.2 "increasing, decreasing, stable"). */
export interface MetricTrend {
  readonly direction: 'increasing' | 'decreasing' | 'stable';
  /** Least-squares slope of the per-bucket value (mean; sum for counters), per second. */
  readonly slopePerSecond: number;
  /** Coefficient of determination of the fit (0..1); NaN when the values are constant. */
  readonly r2: number;
  /** Buckets the fit used. */
  readonly points: number;
  readonly bucketMs: number;
}

/** Pearson correlation of two metrics over aligned buckets. */
export interface MetricCorrelation {
  /** −1..1. */
  readonly coefficient: number;
  /** Buckets in which both metrics had values. */
  readonly points: number;
  readonly bucketMs: number;
}

/** A metric to analyse: its name, or its name and the exact tag set of one series. */
export type MetricSelector = string | { readonly name: string; readonly tags?: MetricTags };

/** Live counts of the collector's own state (for its health and for tests). */
export interface CollectorStats {
  /** Series held, overflow series included. */
  readonly series: number;
  /** Distinct metric names held. */
  readonly names: number;
  /** Values refused: NaN, ±Infinity, |v| > 1e290, negative counter increments, bad names, names past `maxNames`, or recorded while stopped. */
  readonly dropped: number;
  /** Values recorded into an overflow series because of the series or tag limits. */
  readonly overflowed: number;
  /** Series removed (least recently written first) to stay under `maxMemoryBytes`. */
  readonly evicted: number;
  /** Buckets dropped before leaving their window (oldest first) to stay under `maxMemoryBytes`. */
  readonly trimmedBuckets: number;
  /** Estimate of the bytes the collector's state holds. */
  readonly estimatedBytes: number;
}

/** Typed handle of a counter series: resolves the series once; `add` builds no key. */
export interface CounterHandle {
  /** Adds `n` (default 1); negative or non-finite `n` is dropped and counted. */
  add(n?: number): void;
}

/** Typed handle of a gauge series. */
export interface GaugeHandle {
  set(value: number): void;
}

/** Typed handle of a histogram series. */
export interface HistogramHandle {
  record(value: number): void;
}

/** Typed handle of a timer series (milliseconds). */
export interface TimerHandle {
  /** Records a duration in milliseconds. */
  record(ms: number): void;
  /**
   * Runs `fn` and records how long it took, also when it throws or its promise rejects
   * (the error still reaches the caller; our own bookkeeping never throws).
   */
  time<T>(fn: () => T): T;
  /** Starts a stopwatch; calling the returned function records and returns the elapsed ms. */
  start(): () => number;
}
