import type { Attributes } from '@opentelemetry/api';
// Types only: erased at build, so nothing loads sdk-metrics unless the bridge is created.
import type { DataPointType as DataPointTypeEnum, ExponentialHistogram, Histogram, MetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { MetricsCollector } from '../collector/MetricsCollector.js';
import type { MetricDistribution } from '../collector/Series.js';
import type { MetricTags, MetricType } from '../collector/types.js';

/** Duration units turned into millisecond timers (factor to ms); other histograms keep their unit. */
const TO_MS: Readonly<Record<string, number>> = { s: 1_000, ms: 1, us: 1e-3, 'μs': 1e-3, ns: 1e-6 };

/** The runtime values of the SDK's DataPointType enum (read from the loaded module). */
export type DataPointTypes = typeof DataPointTypeEnum;

/** Attributes as tags: primitives as strings, arrays joined with commas, anything else left out. */
export function attributesToTags(attributes: Attributes): MetricTags {
  const tags: Record<string, string> = {};
  for (const key in attributes) {
    const v = attributes[key];
    if (v === undefined || v === null) continue;
    if (typeof v === 'string') tags[key] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') tags[key] = String(v);
    else if (Array.isArray(v)) tags[key] = v.map((x) => (x === null || x === undefined ? '' : String(x))).join(',');
  }
  return tags;
}

/**
 * An explicit-bucket histogram point as a distribution: each bucket stands at the middle of its
 * bounds narrowed by the exact min and max (the outer buckets have only one finite bound).
 */
export function explicitToDistribution(h: Histogram, scale: number): MetricDistribution | undefined {
  const { boundaries, counts } = h.buckets;
  if (!(h.count > 0)) return undefined;
  let first = -1;
  let last = -1;
  for (let i = 0; i < counts.length; i++) {
    if (counts[i]! > 0) {
      if (first < 0) first = i;
      last = i;
    }
  }
  const lowerOf = (i: number) => (i === 0 ? Number.NEGATIVE_INFINITY : boundaries[i - 1]!);
  const upperOf = (i: number) => (i >= boundaries.length ? Number.POSITIVE_INFINITY : boundaries[i]!);
  // Without recorded min/max, the finite edge of the outermost non-empty buckets.
  const min = h.min ?? (first < 0 ? 0 : Number.isFinite(lowerOf(first)) ? lowerOf(first) : upperOf(first));
  const max = h.max ?? (last < 0 ? min : Number.isFinite(upperOf(last)) ? upperOf(last) : lowerOf(last));
  const values: number[] = [];
  const weights: number[] = [];
  let midSum = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (!(c > 0)) continue;
    const lo = Math.max(lowerOf(i), min);
    const hi = Math.min(upperOf(i), max);
    const mid = lo <= hi ? (lo + hi) / 2 : Math.min(max, Math.max(min, hi));
    values.push(mid * scale);
    weights.push(c);
    midSum += mid * c;
  }
  return { count: h.count, sum: (h.sum ?? midSum) * scale, min: min * scale, max: max * scale, values, counts: weights };
}

/**
 * An exponential histogram point as a distribution: bucket `i` covers (base^i, base^(i+1)],
 * base = 2^(2^−scale), and stands at its geometric middle base^(i+½).
 */
export function exponentialToDistribution(h: ExponentialHistogram, scale: number): MetricDistribution | undefined {
  if (!(h.count > 0)) return undefined;
  const base = Math.pow(2, Math.pow(2, -h.scale));
  const values: number[] = [];
  const weights: number[] = [];
  let lowest = Number.POSITIVE_INFINITY;
  let highest = Number.NEGATIVE_INFINITY;
  let midSum = 0;
  const add = (v: number, c: number) => {
    values.push(v * scale);
    weights.push(c);
    midSum += v * c;
    if (v < lowest) lowest = v;
    if (v > highest) highest = v;
  };
  h.negative.bucketCounts.forEach((c, k) => c > 0 && add(-Math.pow(base, h.negative.offset + k + 0.5), c));
  if (h.zeroCount > 0) add(0, h.zeroCount);
  h.positive.bucketCounts.forEach((c, k) => c > 0 && add(Math.pow(base, h.positive.offset + k + 0.5), c));
  const min = h.min ?? (Number.isFinite(lowest) ? lowest : 0);
  const max = h.max ?? (Number.isFinite(highest) ? highest : min);
  return { count: h.count, sum: (h.sum ?? midSum) * scale, min: min * scale, max: max * scale, values, counts: weights };
}

/**
 * Feeds one collection into the collector: histograms as distributions (duration units as ms
 * timers), monotonic sums as counter increments (the bridge reads them as DELTA), other sums
 * and gauges as gauges. Returns the number of data points fed.
 */
export function feedCollector(
  collector: MetricsCollector,
  resourceMetrics: ResourceMetrics,
  types: DataPointTypes,
  include: ((instrumentName: string, scopeName: string) => boolean) | undefined,
): number {
  let fed = 0;
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      const name = metric.descriptor.name;
      if (include && !safeInclude(include, name, scope.scope.name)) continue;
      fed += feedMetric(collector, metric, types);
    }
  }
  return fed;
}

function safeInclude(include: (n: string, s: string) => boolean, name: string, scope: string): boolean {
  try {
    return include(name, scope) === true;
  } catch {
    return false;
  }
}

function feedMetric(collector: MetricsCollector, metric: MetricData, types: DataPointTypes): number {
  const name = metric.descriptor.name;
  let fed = 0;
  if (metric.dataPointType === types.HISTOGRAM || metric.dataPointType === types.EXPONENTIAL_HISTOGRAM) {
    const toMs = TO_MS[metric.descriptor.unit];
    const scale = toMs ?? 1;
    const type: MetricType = toMs === undefined ? 'histogram' : 'timer';
    for (const point of metric.dataPoints) {
      const d =
        metric.dataPointType === types.HISTOGRAM
          ? explicitToDistribution(point.value as Histogram, scale)
          : exponentialToDistribution(point.value as ExponentialHistogram, scale);
      if (d === undefined) continue;
      collector.recordDistribution(name, d, attributesToTags(point.attributes), type);
      fed++;
    }
  } else if (metric.dataPointType === types.SUM) {
    const type: MetricType = metric.isMonotonic ? 'counter' : 'gauge';
    for (const point of metric.dataPoints) {
      collector.recordMetric(name, point.value, attributesToTags(point.attributes), type);
      fed++;
    }
  } else if (metric.dataPointType === types.GAUGE) {
    for (const point of metric.dataPoints) {
      collector.recordMetric(name, point.value, attributesToTags(point.attributes), 'gauge');
      fed++;
    }
  }
  return fed;
}
