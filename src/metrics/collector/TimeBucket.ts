import { LogSketch, type BinsConfig } from './LogSketch.js';

/** Bytes a bucket costs beyond its sketch stores (object and boxed doubles; calibrated with bench/health-metrics.mjs). */
export const BUCKET_OVERHEAD_BYTES = 180;

/** One time bucket: exact count, sum, min and max, and the sketch of its values. */
export class TimeBucket extends LogSketch {
  count = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;

  constructor(
    /** floor(time / bucketMs). */
    public epoch: number,
    bins: BinsConfig,
  ) {
    super(bins);
  }

  reset(epoch: number): void {
    this.epoch = epoch;
    this.count = 0;
    this.sum = 0;
    this.min = Number.POSITIVE_INFINITY;
    this.max = Number.NEGATIVE_INFINITY;
    this.resetSketch();
  }

  /** Adds every value of `other` (same mapping). */
  absorb(other: TimeBucket): void {
    this.count += other.count;
    this.sum += other.sum;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
    this.merge(other);
  }

  get bytes(): number {
    return BUCKET_OVERHEAD_BYTES + this.sketchBytes;
  }
}

/**
 * The buckets of one time resolution, oldest first, at most `size` of them. No timer: a write
 * in a new bucket period recycles the oldest bucket if it has left the window, so a steady
 * series allocates nothing once its ring is full.
 */
export class BucketRing {
  readonly buckets: TimeBucket[] = [];

  constructor(
    readonly bucketMs: number,
    readonly size: number,
    private readonly bins: BinsConfig,
  ) {}

  /** The bucket `now` falls in. A clock that went back writes into the newest bucket. */
  at(now: number): TimeBucket {
    const epoch = Math.floor(now / this.bucketMs);
    const b = this.buckets;
    const n = b.length;
    if (n !== 0) {
      const tail = b[n - 1]!;
      if (tail.epoch >= epoch) return tail;
    }
    return this.open(epoch);
  }

  private open(epoch: number): TimeBucket {
    const b = this.buckets;
    const meter = this.bins.meter;
    const oldest = epoch - this.size; // at or before this the bucket is outside the window
    let bucket: TimeBucket | undefined;
    while (b.length !== 0 && b[0]!.epoch <= oldest) {
      const gone = b.shift()!;
      if (bucket === undefined) bucket = gone;
      else meter.bytes -= gone.bytes;
    }
    if (bucket) bucket.reset(epoch);
    else {
      bucket = new TimeBucket(epoch, this.bins);
      meter.bytes += BUCKET_OVERHEAD_BYTES;
    }
    b.push(bucket);
    return bucket;
  }

  /** Frees the buckets that left the window by `now` (they are in no answer any more). */
  expire(now: number): void {
    const oldest = Math.floor(now / this.bucketMs) - this.size;
    const b = this.buckets;
    while (b.length !== 0 && b[0]!.epoch <= oldest) this.bins.meter.bytes -= b.shift()!.bytes;
  }

  /** Frees the buckets that ended at or before `cutoff` (ms); returns how many. */
  dropBefore(cutoff: number): number {
    const b = this.buckets;
    let dropped = 0;
    while (b.length !== 0 && (b[0]!.epoch + 1) * this.bucketMs <= cutoff) {
      this.bins.meter.bytes -= b.shift()!.bytes;
      dropped++;
    }
    return dropped;
  }

  get bytes(): number {
    let bytes = 0;
    for (const bucket of this.buckets) bytes += bucket.bytes;
    return bytes;
  }
}
