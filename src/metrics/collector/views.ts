import { DenseBins, type BinsConfig, type SketchMapping } from './LogSketch.js';
import type { Series } from './Series.js';
import { TimeBucket } from './TimeBucket.js';
import type { BucketStats } from './types.js';

/** The buckets a query reads: one level, epochs `first..last` (the current bucket included). */
export interface QueryWindow {
  readonly level: number;
  readonly bucketMs: number;
  readonly first: number;
  readonly last: number;
}

/**
 * The finest level whose span covers `rangeMs` (else the coarsest, which caps the range), and
 * the `ceil(rangeMs / bucketMs)` newest buckets of it: a range is aligned to whole buckets, so
 * it covers between `rangeMs − bucketMs` and `rangeMs` of the past plus the current bucket's part.
 */
export function windowFor(levels: ReadonlyArray<{ bucketMs: number; buckets: number }>, rangeMs: number, now: number): QueryWindow {
  let level = levels.length - 1;
  for (let i = 0; i < levels.length; i++) {
    if (levels[i]!.bucketMs * levels[i]!.buckets >= rangeMs) {
      level = i;
      break;
    }
  }
  const { bucketMs, buckets } = levels[level]!;
  const last = Math.floor(now / bucketMs);
  const n = Math.min(buckets, Math.max(1, Math.ceil(rangeMs / bucketMs)));
  return { level, bucketMs, first: last - n + 1, last };
}

/**
 * Query-time merges get Float64 counts and more bins than a bucket, so merging buckets whose
 * windows differ loses nothing; their bytes are garbage after the query, not state.
 */
const QUERY_BINS: BinsConfig = { maxBins: 2_048, wide: true, meter: { bytes: 0 } };

/** All buckets of `series` inside the window merged into one (O(buckets × bins)). */
export function mergeWindow(series: readonly Series[], w: QueryWindow): TimeBucket {
  const acc = new TimeBucket(w.last, QUERY_BINS);
  const pos: DenseBins[] = [];
  const neg: DenseBins[] = [];
  for (const s of series) {
    for (const b of s.rings[w.level]!.buckets) {
      if (b.epoch < w.first || b.epoch > w.last || b.count === 0) continue;
      acc.count += b.count;
      acc.sum += b.sum;
      if (b.min < acc.min) acc.min = b.min;
      if (b.max > acc.max) acc.max = b.max;
      acc.zero += b.zero;
      if (b.pos) pos.push(b.pos);
      if (b.neg) neg.push(b.neg);
    }
  }
  acc.pos = DenseBins.sumOf(pos, QUERY_BINS);
  acc.neg = DenseBins.sumOf(neg, QUERY_BINS);
  return acc;
}

/** The non-empty buckets inside the window, series merged per bucket, oldest first. */
export function bucketsInWindow(series: readonly Series[], w: QueryWindow): TimeBucket[] {
  if (series.length === 1) {
    return series[0]!.rings[w.level]!.buckets.filter((b) => b.epoch >= w.first && b.epoch <= w.last && b.count !== 0);
  }
  const byEpoch = new Map<number, TimeBucket>();
  for (const s of series) {
    for (const b of s.rings[w.level]!.buckets) {
      if (b.epoch < w.first || b.epoch > w.last || b.count === 0) continue;
      let acc = byEpoch.get(b.epoch);
      if (acc === undefined) byEpoch.set(b.epoch, (acc = new TimeBucket(b.epoch, QUERY_BINS)));
      acc.absorb(b);
    }
  }
  return [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
}

/** What trend and correlation read from a bucket. */
export interface BucketTotals {
  readonly epoch: number;
  readonly count: number;
  readonly sum: number;
}

/** Count and sum of the non-empty buckets inside the window, series added per bucket, oldest first (no sketch work). */
export function totalsInWindow(series: readonly Series[], w: QueryWindow): BucketTotals[] {
  if (series.length === 1) {
    return series[0]!.rings[w.level]!.buckets.filter((b) => b.epoch >= w.first && b.epoch <= w.last && b.count !== 0);
  }
  const byEpoch = new Map<number, { epoch: number; count: number; sum: number }>();
  for (const s of series) {
    for (const b of s.rings[w.level]!.buckets) {
      if (b.epoch < w.first || b.epoch > w.last || b.count === 0) continue;
      const acc = byEpoch.get(b.epoch);
      if (acc === undefined) byEpoch.set(b.epoch, { epoch: b.epoch, count: b.count, sum: b.sum });
      else {
        acc.count += b.count;
        acc.sum += b.sum;
      }
    }
  }
  return [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
}

/** A sketch quantile, kept inside the exact [min, max]. */
export function quantileOf(b: TimeBucket, q: number, mapping: SketchMapping): number {
  const v = b.quantile(q, mapping);
  if (Number.isNaN(v)) return b.count === 0 ? Number.NaN : b.sum / b.count;
  return Math.min(b.max, Math.max(b.min, v));
}

export function bucketStats(b: TimeBucket, bucketMs: number, mapping: SketchMapping): BucketStats {
  return {
    start: b.epoch * bucketMs,
    durationMs: bucketMs,
    count: b.count,
    sum: b.sum,
    avg: b.sum / b.count,
    min: b.min,
    max: b.max,
    p95: quantileOf(b, 0.95, mapping),
    p99: quantileOf(b, 0.99, mapping),
  };
}
