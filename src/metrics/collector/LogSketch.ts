/**
 * A mergeable quantile sketch with bounded relative error, after DDSketch (Masson, Rim & Lee,
 * "DDSketch: A Fast and Fully-Mergeable Quantile Sketch with Relative-Error Guarantees", VLDB 2019).
 *
 * A value v > 0 goes to bin `ceil(log_γ v)`, γ = (1 + α) / (1 − α); the bin's representative
 * 2γ^i / (γ + 1) is within α of every value in it, so every quantile is within α (relative)
 * of a value of the data. Negative values use a second store by |v|; values closer to 0 than
 * {@link MIN_INDEXABLE} are counted as 0. Sketches built with the same mapping merge by adding
 * bins, so a quantile over many time buckets costs O(buckets × bins), not O(points).
 *
 * Memory is bounded: a store never holds more than `maxBins` bins. Past that it collapses its
 * lowest bins into one (the DDSketch "collapsing lowest" store), which keeps the high quantiles
 * (p95, p99: what latency questions ask) exact to α and only blurs the low end. The negative
 * store keys a value by −index(|v|), so its order is the values' order too and what it collapses
 * is also the low end (the most negative values).
 */

/** |v| below this counts as 0 (keeps indices finite for denormals). */
export const MIN_INDEXABLE = 1e-300;

/** The value ↔ bin-index map shared by all sketches of one collector (so they merge). */
export class SketchMapping {
  readonly gamma: number;
  /** 1 / ln γ: multiplying is cheaper than dividing on the hot path. */
  readonly invLogGamma: number;

  constructor(readonly relativeAccuracy: number) {
    this.gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy);
    this.invLogGamma = 1 / Math.log(this.gamma);
  }

  /** Bin index of a value > MIN_INDEXABLE. */
  index(absValue: number): number {
    return Math.ceil(Math.log(absValue) * this.invLogGamma);
  }

  /** Representative value of bin `index` (within α of every value the bin holds). */
  value(index: number): number {
    return (2 * Math.pow(this.gamma, index)) / (this.gamma + 1);
  }
}

/** What every bin store of one collector shares: its bound, its width and the byte meter. */
export interface BinsConfig {
  readonly maxBins: number;
  /** Float64 counts from the start (query-time merges, whose counts can pass 2^32). */
  readonly wide: boolean;
  /** Running estimate of the bytes held, updated when a store allocates (see SeriesTable). */
  readonly meter: { bytes: number };
}

/** Shared by every store that has not allocated yet; never written (makeRoom replaces it first). */
const EMPTY = new Uint16Array(0);
const MIN_CAPACITY = 8;
/**
 * lo/hi of an empty store: any index is below NO_LO and above NO_HI, so `add` needs no empty
 * check (indices are negative for values below 1, so 0/−1 would not do). Small integers, so the
 * fields stay unboxed.
 */
const NO_LO = 0x3fffffff;
const NO_HI = -0x3fffffff;
/** Bytes a store costs beyond its bins (object, typed-array and buffer headers; calibrated in bench/health-metrics.mjs). */
export const BINS_OVERHEAD_BYTES = 240;

/**
 * Counts start as Uint16 (2 bytes a bin: most bins of a one-second bucket hold a few values;
 * a plain array would cost 8 in Node, which has no pointer compression), become Uint32 the
 * first time a bin would pass 65,535 and Float64 past 2^32 − 1, so a count is never wrong.
 * Query-time merges start as Float64.
 */
type Counts = Uint16Array | Uint32Array | Float64Array;

function limitOf(counts: Counts): number {
  return counts instanceof Uint16Array ? 0xffff : counts instanceof Uint32Array ? 0xffffffff : Number.POSITIVE_INFINITY;
}

/** Counts over a contiguous window of bin indices; grows with the values' spread up to `maxBins`. */
export class DenseBins {
  counts: Counts = EMPTY;
  /** Largest count the current array type holds. */
  private limit = 0xffff;
  /** Bin index of counts[0]. */
  offset = 0;
  /** Lowest and highest index holding a count (after collapsing, `lo` is the collapsed bin); NO_LO/NO_HI when empty. */
  lo = NO_LO;
  hi = NO_HI;
  total = 0;

  constructor(private readonly config: BinsConfig) {}

  add(index: number, n: number): void {
    let k = index - this.offset;
    if (k < 0 || k >= this.counts.length) k = this.makeRoom(index);
    const c = this.counts[k]! + n;
    if (c > this.limit) this.widen(c);
    this.counts[k] = c;
    this.total += n;
    if (index < this.lo) this.lo = Math.max(index, this.offset);
    if (index > this.hi) this.hi = index;
  }

  /** Adds every bin of `other` (same mapping): the window is fitted once, then a plain loop. */
  merge(other: DenseBins): void {
    if (other.total === 0) return;
    this.add(other.hi, 0);
    this.add(other.lo, 0); // after these two the window holds both ends, or collapses the low end into slot 0
    if (this.total + other.total > this.limit) this.widen(this.total + other.total);
    const counts = this.counts;
    const from = other.counts;
    const delta = other.offset - this.offset; // from[j] goes to counts[j + delta]
    let j = other.lo - other.offset;
    const end = other.hi - other.offset;
    for (; j <= end && j + delta < 0; j++) counts[0]! += from[j]!; // below a collapsed window
    for (; j <= end; j++) counts[j + delta]! += from[j]!;
    this.total += other.total;
  }

  /**
   * A wide store holding the sum of `stores` (same mapping), for queries: one Float64 array over
   * their joint index range filled by plain loops, instead of a merge per store. Past
   * `maxDenseBins` of range it falls back to merging (which collapses the low end).
   */
  static sumOf(stores: readonly DenseBins[], config: BinsConfig, maxDenseBins = 65_536): DenseBins | undefined {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    let total = 0;
    for (const s of stores) {
      if (s.total === 0) continue;
      if (s.lo < lo) lo = s.lo;
      if (s.hi > hi) hi = s.hi;
      total += s.total;
    }
    if (total === 0) return undefined;
    const out = new DenseBins(config);
    if (hi - lo + 1 > maxDenseBins) {
      for (const s of stores) out.merge(s);
      return out;
    }
    const counts = new Float64Array(hi - lo + 1);
    for (const s of stores) {
      if (s.total === 0) continue;
      const from = s.counts;
      const delta = s.offset - lo;
      const end = s.hi - s.offset;
      for (let j = s.lo - s.offset; j <= end; j++) counts[j + delta]! += from[j]!;
    }
    out.counts = counts;
    out.limit = Number.POSITIVE_INFINITY;
    out.offset = lo;
    out.lo = lo;
    out.hi = hi;
    out.total = total;
    return out;
  }

  /** Forgets the counts, keeps the memory (a recycled time bucket reuses its store). */
  reset(): void {
    if (this.total !== 0) this.counts.fill(0);
    this.total = 0;
    this.lo = NO_LO;
    this.hi = NO_HI;
  }

  /** Bytes held (for the meter). */
  get bytes(): number {
    return this.counts.length === 0 ? 0 : BINS_OVERHEAD_BYTES + this.counts.byteLength;
  }

  /** Moves the counts to the narrowest array type that holds `count`. */
  private widen(count: number): void {
    const next = count > 0xffffffff ? Float64Array.from(this.counts) : Uint32Array.from(this.counts);
    this.limit = limitOf(next);
    this.config.meter.bytes += next.byteLength - this.counts.byteLength;
    this.counts = next;
  }

  /** Slot for `index` outside the current window: grows, slides or collapses. */
  private makeRoom(index: number): number {
    const { maxBins } = this.config;
    const empty = this.hi < this.lo;
    const lo = empty ? index : Math.min(this.lo, index);
    const hi = empty ? index : Math.max(this.hi, index);
    // Already at the bound, the window ends at the highest bin and `index` is below it: collapse into slot 0.
    if (!empty && index < this.offset && this.counts.length === maxBins && this.offset === this.hi - maxBins + 1) return 0;
    if (empty && this.counts.length !== 0) {
      // A recycled store: keep its array (already zero) and centre it on the new value.
      this.offset = index - (this.counts.length >> 1);
      return index - this.offset;
    }
    const need = hi - lo + 1;
    // A quarter of slack, in steps of 8: fewer bytes than doubling, still few re-allocations.
    const capacity = need >= maxBins ? maxBins : Math.min(maxBins, Math.max(MIN_CAPACITY, ((need + (need >> 2) + 7) >> 3) << 3));
    // Leave the spare room on the side the data is growing towards (both sides for a first value).
    const offset =
      need >= maxBins ? hi - maxBins + 1 : empty ? index - (capacity >> 1) : index > this.hi ? lo : hi - capacity + 1;
    // Collapsing can pile up to every count into slot 0: make sure the array type holds the total.
    if (this.total > this.limit) this.widen(this.total);
    const old = this.counts;
    if (!empty && capacity === old.length) {
      slide(old, offset - this.offset); // same size, other window: no allocation
    } else {
      const next = this.config.wide || old instanceof Float64Array ? new Float64Array(capacity) : old instanceof Uint32Array ? new Uint32Array(capacity) : new Uint16Array(capacity);
      if (!empty) {
        for (let i = this.lo; i <= this.hi; i++) {
          const n = old[i - this.offset]!;
          if (n !== 0) next[Math.max(0, i - offset)]! += n;
        }
      }
      this.config.meter.bytes += next.byteLength - old.byteLength + (old.length === 0 ? BINS_OVERHEAD_BYTES : 0);
      this.counts = next;
      this.limit = limitOf(next);
    }
    this.offset = offset;
    if (!empty) {
      // What fell below the window now sits in its first bin.
      if (this.lo < offset) this.lo = offset;
      if (this.hi < offset) this.hi = offset;
    }
    return Math.max(0, index - offset);
  }
}

/**
 * Moves a window of counts by `d` bins in place: up (d > 0) folds the slots that fall below the
 * new first slot into it (the collapsing-lowest rule); down (d < 0) only happens when the top fits.
 */
function slide(a: Counts, d: number): void {
  const len = a.length;
  if (d > 0) {
    let collapsed = 0;
    const upto = Math.min(d, len - 1);
    for (let k = 0; k <= upto; k++) collapsed += a[k]!;
    if (d < len) {
      a.copyWithin(0, d);
      a.fill(0, len - d);
    } else a.fill(0);
    a[0] = collapsed;
  } else if (d < 0) {
    a.copyWithin(-d, 0, len + d);
    a.fill(0, 0, -d);
  }
}

/** Zero count plus a store for positive and one for negative values (created on first use). */
export class LogSketch {
  zero = 0;
  pos: DenseBins | undefined;
  neg: DenseBins | undefined;

  constructor(protected readonly bins: BinsConfig) {}

  /** Adds `n` of `value`. */
  add(value: number, n: number, mapping: SketchMapping): void {
    if (value > MIN_INDEXABLE) this.addIndexed(1, mapping.index(value), n);
    else if (value < -MIN_INDEXABLE) this.addIndexed(-1, mapping.index(-value), n);
    else this.zero += n;
  }

  /** Hot path: `index` is of |value|, computed once per value and reused for every time resolution. */
  addIndexed(sign: number, index: number, n: number): void {
    if (sign > 0) (this.pos ??= new DenseBins(this.bins)).add(index, n);
    else if (sign < 0) (this.neg ??= new DenseBins(this.bins)).add(-index, n);
    else this.zero += n;
  }

  merge(other: LogSketch): void {
    this.zero += other.zero;
    if (other.pos) (this.pos ??= new DenseBins(this.bins)).merge(other.pos);
    if (other.neg) (this.neg ??= new DenseBins(this.bins)).merge(other.neg);
  }

  get sketchCount(): number {
    return this.zero + (this.pos?.total ?? 0) + (this.neg?.total ?? 0);
  }

  /**
   * The q-quantile (0..1), NaN when empty. Nearest-rank rule: the value of rank ⌈q·n⌉ (1-based),
   * so p99 of a few values is their maximum rather than their minimum.
   */
  quantile(q: number, mapping: SketchMapping): number {
    const total = this.sketchCount;
    if (total === 0) return Number.NaN;
    // The tiny subtraction keeps float noise (0.95 × 20000 = 19000.000000000004) from skipping a rank.
    const rank = Math.max(1, Math.ceil(q * total - 1e-9 * total));
    let seen = 0;
    const neg = this.neg;
    if (neg && neg.total > 0) {
      // Keyed by −index(|v|): ascending is most negative first.
      for (let i = neg.lo; i <= neg.hi; i++) {
        seen += neg.counts[i - neg.offset]!;
        if (seen >= rank) return -mapping.value(-i);
      }
    }
    seen += this.zero;
    if (seen >= rank) return 0;
    const pos = this.pos;
    if (pos && pos.total > 0) {
      for (let i = pos.lo; i <= pos.hi; i++) {
        seen += pos.counts[i - pos.offset]!;
        if (seen >= rank) return mapping.value(i);
      }
      return mapping.value(pos.hi);
    }
    return 0;
  }

  resetSketch(): void {
    this.zero = 0;
    this.pos?.reset();
    this.neg?.reset();
  }

  /** Bytes held by the stores (for the meter). */
  get sketchBytes(): number {
    return (this.pos?.bytes ?? 0) + (this.neg?.bytes ?? 0);
  }
}
