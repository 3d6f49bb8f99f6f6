import { diag } from '@opentelemetry/api';
import type { Clock } from '../../clock.js';
import { Listeners, type Disposer } from '../../disposer.js';
import { correlateBuckets, fitTrend, bucketValue } from './analysis.js';
import { MAX_ABS_VALUE, SeriesHandle, type SeriesSink } from './handles.js';
import { SketchMapping } from './LogSketch.js';
import { resolveMetricsCollectorOptions, type MetricsCollectorOptions, type ResolvedMetricsCollectorOptions } from './options.js';
import type { MetricDistribution, Series } from './Series.js';
import { SeriesTable } from './SeriesTable.js';
import type {
  AggregatedMetric,
  CollectorStats,
  CounterHandle,
  GaugeHandle,
  HistogramHandle,
  MetricCorrelation,
  MetricDataPoint,
  MetricHistory,
  MetricSelector,
  MetricTags,
  MetricTrend,
  MetricType,
  RealtimeMetric,
  TimerHandle,
} from './types.js';
import { bucketStats, bucketsInWindow, mergeWindow, quantileOf, totalsInWindow, windowFor } from './views.js';

const NO_TAGS: MetricTags = Object.freeze({});

/**
 * Performance metrics collection (spec 2.6). Records counters, gauges, histograms and timers
 * into per-series rings of time buckets (exact count/sum/min/max plus a mergeable quantile
 * sketch per bucket) at several resolutions, and answers aggregated, real-time and historical
 * views, trends and correlations from them. No timers: buckets roll over when written or read.
 *
 * Memory is bounded by construction: at most `maxSeries` series plus one overflow series per
 * name (`maxNames`), `levels × buckets` buckets per series, `maxSketchBins` bins per bucket
 * sketch, and `maxMemoryBytes` for all of it (past it, history is shortened for every series,
 * then the least recently written series are evicted).
 *
 * Recording never throws: a value that is not a finite number within ±1e290, a negative counter
 * increment, an empty name, or anything recorded while stopped is dropped and counted in
 * {@link dropped}.
 */
const METRIC_TYPES: Readonly<Record<MetricType, true>> = { counter: true, gauge: true, histogram: true, timer: true };

export class MetricsCollector {
  readonly options: ResolvedMetricsCollectorOptions;
  private readonly table: SeriesTable;
  private readonly mapping: SketchMapping;
  private readonly clock: Clock;
  private readonly listeners = new Listeners<MetricDataPoint>((err) => diag.warn('otel-self-heal: a metrics listener threw', err));
  private droppedCount = 0;
  private active = true;
  private readonly sink: SeriesSink = {
    resolve: (name, tags, type) => this.table.resolve(name, tags, type),
    write: (series, value) => this.write(series, value),
    drop: () => {
      this.droppedCount++;
    },
  };

  /** Throws a ConfigValidationError naming the field (e.g. `metrics.maxSeries`) for bad options. */
  constructor(options?: MetricsCollectorOptions) {
    this.options = resolveMetricsCollectorOptions(options);
    this.table = new SeriesTable(this.options);
    this.mapping = new SketchMapping(this.options.relativeAccuracy);
    this.clock = this.options.clock;
  }

  /** Spec `start`: accept values again after {@link stop}. A new collector is started. */
  start(): void {
    this.active = true;
  }

  /** Spec `stop`: values recorded from now on are dropped; what was recorded stays queryable. */
  stop(): void {
    this.active = false;
  }

  get running(): boolean {
    return this.active;
  }

  /** Values refused so far (see the class comment). */
  get dropped(): number {
    return this.droppedCount;
  }

  stats(): CollectorStats {
    return {
      series: this.table.seriesCount,
      names: this.table.families.size,
      dropped: this.droppedCount,
      overflowed: this.table.overflowed,
      evicted: this.table.evicted,
      trimmedBuckets: this.table.trimmed,
      estimatedBytes: this.table.bytes,
    };
  }

  /**
   * Spec `record_metric`. `type` (default `gauge`) is fixed by the first value of a name; a
   * counter's value is an increment. Finds the series by walking `tags` (two Map lookups per
   * tag, nothing allocated); a typed handle ({@link counter}, {@link gauge}, {@link histogram},
   * {@link timer}) skips even that.
   */
  recordMetric(name: string, value: number, tags?: MetricTags, type: MetricType = 'gauge'): void {
    if (!this.active || typeof value !== 'number' || !(value <= MAX_ABS_VALUE && value >= -MAX_ABS_VALUE) || !(type in METRIC_TYPES)) {
      this.droppedCount++;
      return;
    }
    const series = this.table.resolve(name, tags, type);
    // The name's type is fixed by its first value: check the value against the series' type.
    if (series === undefined || (series.type === 'counter' && value < 0)) this.droppedCount++;
    else this.write(series, value);
  }

  /**
   * Records pre-aggregated values (one histogram data point, say): count, sum, min and max are
   * kept exactly; `values[i]` stands for `counts[i]` values in the quantile sketch.
   */
  recordDistribution(name: string, distribution: MetricDistribution, tags?: MetricTags, type: MetricType = 'histogram'): void {
    const d = distribution;
    const ok =
      this.active &&
      d !== null &&
      typeof d === 'object' &&
      d.count >= 1 &&
      Number.isFinite(d.count) &&
      Math.abs(d.sum) <= MAX_ABS_VALUE &&
      Math.abs(d.min) <= MAX_ABS_VALUE &&
      Math.abs(d.max) <= MAX_ABS_VALUE &&
      d.min <= d.max &&
      isArrayLike(d.values) &&
      isArrayLike(d.counts);
    const series = ok ? this.table.resolve(name, tags, type) : undefined;
    if (series === undefined) {
      this.droppedCount++;
      return;
    }
    const now = this.clock.now();
    series.recordDistribution(d, now, this.mapping);
    this.afterWrite(series, now, series.last);
  }

  counter(name: string, tags?: MetricTags): CounterHandle {
    return new SeriesHandle(this.sink, name, copyTags(tags), 'counter');
  }

  gauge(name: string, tags?: MetricTags): GaugeHandle {
    return new SeriesHandle(this.sink, name, copyTags(tags), 'gauge');
  }

  histogram(name: string, tags?: MetricTags): HistogramHandle {
    return new SeriesHandle(this.sink, name, copyTags(tags), 'histogram');
  }

  /** A timer records milliseconds. */
  timer(name: string, tags?: MetricTags): TimerHandle {
    return new SeriesHandle(this.sink, name, copyTags(tags), 'timer');
  }

  /**
   * Spec `request_aggregation`: statistics of the last `timeRangeMs` (whole buckets of the finest
   * level that spans it, the current bucket included). With `tags`, the series with exactly
   * those tags; without, all series of the name merged. Undefined when nothing was recorded.
   * Cost O(series × buckets × bins), independent of how many values were recorded.
   */
  requestAggregation(name: string, timeRangeMs: number, tags?: MetricTags): AggregatedMetric | undefined {
    const series = this.table.find(name, tags);
    if (series.length === 0 || !(timeRangeMs > 0)) return undefined;
    const w = windowFor(this.options.levels, timeRangeMs, this.clock.now());
    const b = mergeWindow(series, w);
    if (b.count === 0) return undefined;
    return {
      name,
      type: series[0]!.type,
      avg: b.sum / b.count,
      min: b.min,
      max: b.max,
      p50: quantileOf(b, 0.5, this.mapping),
      p95: quantileOf(b, 0.95, this.mapping),
      p99: quantileOf(b, 0.99, this.mapping),
      count: b.count,
      sum: b.sum,
      timeRangeMs,
      bucketMs: w.bucketMs,
      tags: tagsOf(series, tags),
    };
  }

  /** Real-time view: the latest value and the current finest bucket. */
  realtime(name: string, tags?: MetricTags): RealtimeMetric | undefined {
    const series = this.table.find(name, tags);
    if (series.length === 0) return undefined;
    let latest = series[0]!;
    for (const s of series) if (s.lastTimestamp > latest.lastTimestamp) latest = s;
    const fine = this.options.levels[0]!;
    const w = windowFor(this.options.levels, fine.bucketMs, this.clock.now());
    const b = mergeWindow(series, w);
    return {
      name,
      type: latest.type,
      tags: tagsOf(series, tags),
      last: latest.last,
      lastTimestamp: latest.lastTimestamp,
      current: b.count === 0 ? undefined : bucketStats(b, w.bucketMs, this.mapping),
    };
  }

  /** Historical view: per-bucket statistics of the last `rangeMs` at the finest level spanning it. */
  history(name: string, rangeMs: number, tags?: MetricTags): MetricHistory | undefined {
    const series = this.table.find(name, tags);
    if (series.length === 0 || !(rangeMs > 0)) return undefined;
    const w = windowFor(this.options.levels, rangeMs, this.clock.now());
    return {
      name,
      type: series[0]!.type,
      tags: tagsOf(series, tags),
      bucketMs: w.bucketMs,
      buckets: bucketsInWindow(series, w).map((b) => bucketStats(b, w.bucketMs, this.mapping)),
    };
  }

  /**
   * Trend of the per-bucket value (mean; increase for counters) over the last `rangeMs`, by
   * least squares (simple-statistics). `increasing`/`decreasing` needs both a slope significant at
   * the 99 % level (t-test, ≥ 3 buckets) and a fitted change across the range of at least
   * `trendMinChange` × the mean level; anything else is `stable`.
   */
  trend(name: string, rangeMs: number, tags?: MetricTags): MetricTrend | undefined {
    const series = this.table.find(name, tags);
    if (series.length === 0 || !(rangeMs > 0)) return undefined;
    const w = windowFor(this.options.levels, rangeMs, this.clock.now());
    const buckets = totalsInWindow(series, w);
    if (buckets.length === 0) return undefined;
    const type = series[0]!.type;
    const x0 = buckets[0]!.epoch;
    const points = buckets.map((b): [number, number] => [((b.epoch - x0) * w.bucketMs) / 1000, bucketValue(b, type)]);
    const fit = fitTrend(points, this.options.trendMinChange);
    return { ...fit, points: points.length, bucketMs: w.bucketMs };
  }

  /**
   * Pearson correlation (simple-statistics `sampleCorrelation`) of two metrics' per-bucket values
   * over the last `rangeMs`, using the buckets where both have values. Undefined with fewer than
   * 3 such buckets or when one side is constant.
   */
  correlation(a: MetricSelector, b: MetricSelector, rangeMs: number): MetricCorrelation | undefined {
    if (!(rangeMs > 0)) return undefined;
    const sa = typeof a === 'string' ? this.table.find(a, undefined) : this.table.find(a.name, a.tags);
    const sb = typeof b === 'string' ? this.table.find(b, undefined) : this.table.find(b.name, b.tags);
    if (sa.length === 0 || sb.length === 0) return undefined;
    const w = windowFor(this.options.levels, rangeMs, this.clock.now());
    const r = correlateBuckets(totalsInWindow(sa, w), sa[0]!.type, totalsInWindow(sb, w), sb[0]!.type);
    return r && { ...r, bucketMs: w.bucketMs };
  }

  /** The series held (all, or those of `name`), overflow series included. */
  series(name?: string): Array<{ name: string; type: MetricType; tags: MetricTags }> {
    const out: Array<{ name: string; type: MetricType; tags: MetricTags }> = [];
    for (const family of this.table.families.values()) {
      if (name !== undefined && family.name !== name) continue;
      for (const s of family.members) out.push({ name: s.name, type: s.type, tags: s.tags });
    }
    return out;
  }

  /**
   * Every value recorded from now on, as a data point. Costs nothing while nobody listens; a
   * listener that throws is reported through `diag`, never to the recording code.
   */
  subscribe(listener: (point: MetricDataPoint) => void): Disposer {
    return this.listeners.add(listener);
  }

  /** Hot path shared by recordMetric and the handles. */
  private write(series: Series, value: number): void {
    if (!this.active) {
      this.droppedCount++;
      return;
    }
    const now = this.clock.now();
    series.record(value, now, this.mapping);
    this.afterWrite(series, now, value);
  }

  private afterWrite(series: Series, now: number, value: number): void {
    if (series.overflow) this.table.overflowed++;
    if (this.table.bytes > this.table.reclaimAt) this.table.reclaim(now, series);
    if (this.listeners.size !== 0) {
      this.listeners.emit({ name: series.name, type: series.type, value, timestamp: now, tags: series.tags });
    }
  }

}

function isArrayLike(v: unknown): v is ArrayLike<number> {
  return v !== null && typeof v === 'object' && typeof (v as { length?: unknown }).length === 'number';
}

function copyTags(tags: MetricTags | undefined): MetricTags | undefined {
  return tags === undefined ? undefined : Object.freeze({ ...tags });
}

function tagsOf(series: readonly Series[], asked: MetricTags | undefined): MetricTags {
  return asked === undefined ? NO_TAGS : series[0]!.tags;
}
