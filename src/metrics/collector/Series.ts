import { MIN_INDEXABLE, type BinsConfig, type SketchMapping } from './LogSketch.js';
import { BucketRing } from './TimeBucket.js';
import type { TagPath } from './TagTrie.js';
import type { MetricTags, MetricType } from './types.js';

/** Bytes a series costs beyond its buckets, tags and trie paths (object, rings, arrays; calibrated with bench/health-metrics.mjs). */
export const SERIES_OVERHEAD_BYTES = 1_200;

/** Pre-aggregated values, e.g. one histogram data point of the OpenTelemetry SDK. */
export interface MetricDistribution {
  /** Number of values (≥ 1). */
  readonly count: number;
  /** Their exact sum. */
  readonly sum: number;
  /** Their exact minimum and maximum. */
  readonly min: number;
  readonly max: number;
  /** Representative values (e.g. bucket midpoints) and how many values each stands for. */
  readonly values: ArrayLike<number>;
  readonly counts: ArrayLike<number>;
}

/** One series: a metric name with one tag set, written at every time resolution. */
export class Series {
  /** False once evicted; handles then resolve again. */
  alive = true;
  last = Number.NaN;
  lastTimestamp = 0;
  readonly rings: BucketRing[];
  /** Trie paths leading to this series (the canonical one first, then aliases). */
  readonly paths: TagPath[] = [];
  /** Bytes of the series object, tags and paths (buckets are counted by the rings). */
  baseBytes: number;

  constructor(
    readonly name: string,
    readonly type: MetricType,
    readonly tags: MetricTags,
    readonly overflow: boolean,
    levels: ReadonlyArray<{ bucketMs: number; buckets: number }>,
    bins: BinsConfig,
  ) {
    this.rings = levels.map((l) => new BucketRing(l.bucketMs, l.buckets, bins));
    let tagBytes = 0;
    for (const k in tags) tagBytes += 2 * (k.length + tags[k]!.length) + 32;
    this.baseBytes = SERIES_OVERHEAD_BYTES + tagBytes;
  }

  /** Hot path: one log for the sketch index, then a counter bump per resolution. */
  record(value: number, now: number, mapping: SketchMapping): void {
    let sign = 0;
    let index = 0;
    if (value > MIN_INDEXABLE) {
      sign = 1;
      index = mapping.index(value);
    } else if (value < -MIN_INDEXABLE) {
      sign = -1;
      index = mapping.index(-value);
    }
    const rings = this.rings;
    for (let i = 0; i < rings.length; i++) {
      const b = rings[i]!.at(now);
      b.count++;
      b.sum += value;
      if (value < b.min) b.min = value;
      if (value > b.max) b.max = value;
      b.addIndexed(sign, index, 1);
    }
    this.last = value;
    this.lastTimestamp = now;
  }

  /** Records pre-aggregated values: exact count/sum/min/max, representative values in the sketch. */
  recordDistribution(d: MetricDistribution, now: number, mapping: SketchMapping): void {
    for (const ring of this.rings) {
      const b = ring.at(now);
      b.count += d.count;
      b.sum += d.sum;
      if (d.min < b.min) b.min = d.min;
      if (d.max > b.max) b.max = d.max;
      const n = Math.min(d.values.length, d.counts.length);
      for (let i = 0; i < n; i++) {
        const c = d.counts[i]!;
        const v = d.values[i]!;
        if (c > 0 && Number.isFinite(c) && Number.isFinite(v)) b.add(Math.min(d.max, Math.max(d.min, v)), Math.round(c), mapping);
      }
    }
    this.last = d.count === 1 ? d.sum : d.sum / d.count;
    this.lastTimestamp = now;
  }

  get bytes(): number {
    let bytes = this.baseBytes;
    for (const ring of this.rings) bytes += ring.bytes;
    return bytes;
  }
}
