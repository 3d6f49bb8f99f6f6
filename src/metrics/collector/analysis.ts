import { linearRegression, linearRegressionLine, rSquared, sampleCorrelation } from 'simple-statistics';
import type { BucketTotals } from './views.js';
import type { MetricType } from './types.js';

/**
 * The value a bucket contributes to trend and correlation: its mean, or for a counter its sum
 * (the increase within the bucket, i.e. a rate).
 */
export function bucketValue(b: BucketTotals, type: MetricType): number {
  return type === 'counter' ? b.sum : b.sum / b.count;
}

/** Two-sided 99 % critical values of Student's t for 1..30 degrees of freedom. */
const T99 = [
  63.657, 9.925, 5.841, 4.604, 4.032, 3.707, 3.499, 3.355, 3.25, 3.169, 3.106, 3.055, 3.012, 2.977, 2.947, 2.921, 2.898,
  2.878, 2.861, 2.845, 2.831, 2.819, 2.807, 2.797, 2.787, 2.779, 2.771, 2.763, 2.756, 2.75,
];

function tCritical(df: number): number {
  if (df <= 30) return T99[df - 1]!;
  if (df <= 40) return 2.704;
  if (df <= 60) return 2.66;
  if (df <= 120) return 2.617;
  return 2.576;
}

export interface TrendFit {
  direction: 'increasing' | 'decreasing' | 'stable';
  slopePerSecond: number;
  r2: number;
}

/**
 * Least-squares line through `points` ([seconds, value]). The rule for a direction other than
 * `stable`, both parts required:
 * 1. statistical: the slope differs from 0 at the 99 % level (two-sided t-test on the slope,
 *    t = √(r²(n−2)/(1−r²)) against Student's t with n−2 degrees of freedom; n ≥ 3);
 * 2. practical: the fitted change across the range, |slope| × span, is at least `minChange`
 *    times the mean level |ȳ| (so a tiny but steady drift of a large value stays `stable`).
 */
export function fitTrend(points: ReadonlyArray<[number, number]>, minChange: number): TrendFit {
  const n = points.length;
  if (n < 2) return { direction: 'stable', slopePerSecond: 0, r2: Number.NaN };
  const line = linearRegression(points as Array<[number, number]>);
  const slope = Number.isFinite(line.m) ? line.m : 0;
  let r2 = rSquared(points as Array<[number, number]>, linearRegressionLine(line));
  if (!Number.isFinite(r2)) r2 = Number.NaN; // constant values: 0/0
  if (n < 3 || Number.isNaN(r2) || slope === 0) return { direction: 'stable', slopePerSecond: slope, r2 };
  const t = r2 >= 1 ? Number.POSITIVE_INFINITY : Math.sqrt((Math.max(0, r2) * (n - 2)) / (1 - r2));
  let mean = 0;
  for (const p of points) mean += p[1];
  mean /= n;
  const span = points[n - 1]![0] - points[0]![0];
  const significant = t > tCritical(n - 2) && Math.abs(slope) * span >= minChange * Math.abs(mean);
  return { direction: significant ? (slope > 0 ? 'increasing' : 'decreasing') : 'stable', slopePerSecond: slope, r2 };
}

/** Pearson correlation over the buckets both sides have (sorted by epoch); undefined below 3 or when one side is constant. */
export function correlateBuckets(
  a: readonly BucketTotals[],
  typeA: MetricType,
  b: readonly BucketTotals[],
  typeB: MetricType,
): { coefficient: number; points: number } | undefined {
  const xs: number[] = [];
  const ys: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ea = a[i]!.epoch;
    const eb = b[j]!.epoch;
    if (ea === eb) {
      xs.push(bucketValue(a[i]!, typeA));
      ys.push(bucketValue(b[j]!, typeB));
      i++;
      j++;
    } else if (ea < eb) i++;
    else j++;
  }
  if (xs.length < 3) return undefined;
  const r = sampleCorrelation(xs, ys);
  if (!Number.isFinite(r)) return undefined;
  return { coefficient: Math.max(-1, Math.min(1, r)), points: xs.length };
}
