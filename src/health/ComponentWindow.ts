/**
 * A downstream's recent calls: `BUCKETS` one-second buckets, each with a call count, a failure
 * count and a latency histogram of `BINS` geometric bins (0.5 ms × 1.25^k, up to ~2 min, so
 * percentiles are within ~12%). One Uint32Array per component (2.3 KB), O(1) per call, no
 * allocation after the first call, and buckets are cleared as the clock passes them (no timer).
 */
export const BUCKETS = 10;
export const BUCKET_MS = 1_000;
const BINS = 56;
const STRIDE = BINS + 2; // [count, errors, ...bins]
const BASE_MS = 0.5;
const LOG_FACTOR = Math.log(1.25);

/** Outcomes of the last this-many calls are kept as bits, for a reading that reacts within a few calls. */
export const RECENT_CALLS = 32;

export interface WindowSnapshot {
  /** Calls among the last {@link RECENT_CALLS}, and how many of them failed. */
  recentCount: number;
  recentFailures: number;
  /** Calls in the window. */
  count: number;
  failures: number;
  /** failures / count (0 without calls). */
  errorRate: number;
  /** Calls per second over the window. */
  throughput: number;
  /** Latency percentiles in ms (0 without calls). */
  p50: number;
  p95: number;
  p99: number;
}

function binOf(ms: number): number {
  if (!(ms > BASE_MS)) return 0;
  const b = Math.ceil(Math.log(ms / BASE_MS) / LOG_FACTOR);
  return b >= BINS ? BINS - 1 : b;
}

/** Upper edge of a bin, ms. */
function binUpper(b: number): number {
  return BASE_MS * Math.pow(1.25, b);
}

export class ComponentWindow {
  private data: Uint32Array | undefined;
  /** The absolute bucket index (time / BUCKET_MS) the newest bucket holds. */
  private head = 0;
  /** The last 32 outcomes, newest in bit 0 (1 = failed). */
  private recent = 0;
  /** Calls recorded ever, and the time of the last one. */
  total = 0;
  lastSeen = 0;

  /** Forgets every call (e.g. after the component was restarted); the totals ever seen stay. */
  reset(): void {
    this.data = undefined;
    this.recent = 0;
  }

  record(now: number, failed: boolean, durationMs: number): void {
    this.advance(now);
    const d = (this.data ??= new Uint32Array(BUCKETS * STRIDE));
    const base = (this.head % BUCKETS) * STRIDE;
    d[base]!++;
    if (failed) d[base + 1]!++;
    d[base + 2 + binOf(durationMs)]!++;
    this.recent = ((this.recent << 1) | (failed ? 1 : 0)) >>> 0;
    this.total++;
    this.lastSeen = now;
  }

  /** The window's figures as of `now`. Allocates one small array; meant for the evaluation tick, not per call. */
  snapshot(now: number): WindowSnapshot {
    this.advance(now);
    const d = this.data;
    if (!d) return { recentCount: 0, recentFailures: 0, count: 0, failures: 0, errorRate: 0, throughput: 0, p50: 0, p95: 0, p99: 0 };
    let count = 0;
    let failures = 0;
    const bins = new Float64Array(BINS);
    for (let b = 0; b < BUCKETS; b++) {
      const base = b * STRIDE;
      count += d[base]!;
      failures += d[base + 1]!;
      for (let i = 0; i < BINS; i++) bins[i]! += d[base + 2 + i]!;
    }
    // The recent calls count only while they are in the window: an old failure streak must not linger.
    const recentCount = Math.min(RECENT_CALLS, this.total, count);
    const mask = recentCount === 32 ? 0xffffffff : (1 << recentCount) - 1;
    return {
      recentCount,
      recentFailures: popcount(this.recent & mask),
      count,
      failures,
      errorRate: count ? failures / count : 0,
      throughput: count / ((BUCKETS * BUCKET_MS) / 1000),
      p50: percentile(bins, count, 0.5),
      p95: percentile(bins, count, 0.95),
      p99: percentile(bins, count, 0.99),
    };
  }

  /**
   * Median latency (ms) of the last completed one-second bucket, or undefined when it had fewer
   * than `minCalls` calls: a per-second series for streaming detectors, not smoothed by the 10 s
   * window (and not one lone call's latency, which says nothing about the downstream).
   */
  lastSecondMedian(now: number, minCalls = 1): number | undefined {
    this.advance(now);
    const d = this.data;
    if (!d) return undefined;
    const base = ((this.head - 1 + BUCKETS) % BUCKETS) * STRIDE;
    const count = d[base]!;
    if (count === 0 || count < minCalls) return undefined;
    return percentile(d.subarray(base + 2, base + 2 + BINS), count, 0.5);
  }

  private advance(now: number): void {
    const idx = Math.floor(now / BUCKET_MS);
    if (idx <= this.head) return; // same bucket, or the clock stepped back
    const d = this.data;
    if (d) {
      const steps = Math.min(idx - this.head, BUCKETS);
      for (let s = 1; s <= steps; s++) d.fill(0, ((this.head + s) % BUCKETS) * STRIDE, ((this.head + s) % BUCKETS) * STRIDE + STRIDE);
    }
    this.head = idx;
  }
}

/** The q-quantile from bin counts, interpolated within its bin (geometric bins: interpolate in log space). */
function percentile(bins: ArrayLike<number>, count: number, q: number): number {
  if (count === 0) return 0;
  const rank = q * count;
  let seen = 0;
  for (let b = 0; b < BINS; b++) {
    const c = bins[b]!;
    if (c === 0) continue;
    if (seen + c >= rank) {
      if (b === 0) return BASE_MS;
      const lo = binUpper(b - 1);
      const hi = binUpper(b);
      const frac = (rank - seen) / c;
      return lo * Math.pow(hi / lo, frac);
    }
    seen += c;
  }
  return binUpper(BINS - 1);
}

function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
