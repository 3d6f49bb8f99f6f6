import { RingBuffer } from './RingBuffer.js';

const DAY_MS = 86_400_000;

/** Time of day in ms, 0 ≤ t < one day (UTC; a series' own offset only shifts every value alike). */
function timeOfDay(ms: number): number {
  const t = ms % DAY_MS;
  return t < 0 ? t + DAY_MS : t;
}

/**
 * Nonconformity of the newest stretch of a series against its own recent past, in the spirit of
 * KNN-CAD (Burnaev & Ishimtsev, "Conformalized density- and distance-based anomaly detection in
 * time-series data", 2016): the last `window` values form a vector, and its nonconformity is the
 * mean Euclidean distance to its `neighbours` nearest vectors among the earlier, non-overlapping
 * stretches of the last `history` values. A spike, a level shift or a new rhythm makes the newest
 * stretch unlike any recent one.
 *
 * The same pass gives a contextual nonconformity, as CAD OSE's contexts and HTM's time-of-day
 * encoder do: the nearest stretches among those that ended within `contextMs` of the same time of
 * day, so a missing daily jump, or a night that looks like a day, stands out too.
 *
 * Memory: two rings of `history + window` numbers (values, times) and 2 × `neighbours` scratch.
 * Time: at most `history × window` steps per value, usually far fewer thanks to early abandoning
 * (a candidate stops as soon as it cannot be among the nearest).
 */
export class KnnNonconformity {
  private readonly values: RingBuffer;
  private readonly times: RingBuffer;
  private readonly best: Float64Array; // squared distances of the nearest candidates, ascending
  private readonly bestInContext: Float64Array;
  /** Nonconformity of the newest stretch; −1 while fewer than `neighbours` candidates exist. */
  global = -1;
  /** Same, against stretches that ended at about the same time of day; −1 while too few. */
  contextual = -1;

  constructor(
    readonly window: number,
    readonly history: number,
    readonly neighbours: number,
    /** Half-width of the time-of-day context in ms; 0 turns the contextual comparison off. */
    readonly contextMs: number,
  ) {
    this.values = new RingBuffer(history + window);
    this.times = new RingBuffer(history + window);
    this.best = new Float64Array(neighbours);
    this.bestInContext = new Float64Array(neighbours);
  }

  /** Numbers held in the rings, and their capacity. */
  get size(): number {
    return this.values.size + this.times.size;
  }
  get capacity(): number {
    return this.values.capacity + this.times.capacity;
  }

  /** Adds a value and updates {@link global} and {@link contextual}. */
  update(value: number, timeMs: number): void {
    const v = this.values;
    const t = this.times;
    v.push(value);
    t.push(timeOfDay(timeMs));
    const L = this.window;
    const k = this.neighbours;
    const last = v.size - L; // largest `ago` at which a candidate stretch may end
    this.global = -1;
    this.contextual = -1;
    if (last - L + 1 < k) return;
    const best = this.best;
    const bestCtx = this.bestInContext;
    best.fill(Number.POSITIVE_INFINITY);
    bestCtx.fill(Number.POSITIVE_INFINITY);
    let bound = Number.POSITIVE_INFINITY;
    let boundCtx = Number.POSITIVE_INFINITY;
    let inContextCount = 0;
    const useContext = this.contextMs > 0;
    const now = t.get(0);
    // Candidates end `a` values ago, a ≥ L so they never overlap the newest stretch; the most
    // recent first, as they tend to be the nearest and tighten the bound early.
    for (let a = L; a <= last; a++) {
      let inContext = false;
      if (useContext) {
        let dt = Math.abs(t.get(a) - now);
        if (dt > DAY_MS / 2) dt = DAY_MS - dt;
        inContext = dt <= this.contextMs;
      }
      const limit = inContext && boundCtx > bound ? boundCtx : bound;
      let d = 0;
      for (let i = 0; i < L && d < limit; i++) {
        const diff = v.get(i) - v.get(a + i);
        d += diff * diff;
      }
      if (d < bound) {
        insertAscending(best, d);
        bound = best[k - 1]!;
      }
      if (inContext) {
        inContextCount++;
        if (d < boundCtx) {
          insertAscending(bestCtx, d);
          boundCtx = bestCtx[k - 1]!;
        }
      }
    }
    this.global = meanOfRoots(best);
    if (inContextCount >= k) this.contextual = meanOfRoots(bestCtx);
  }
}

/** Inserts `d` into the ascending array `best`, dropping its largest entry. */
function insertAscending(best: Float64Array, d: number): void {
  let j = best.length - 1;
  while (j > 0 && best[j - 1]! > d) {
    best[j] = best[j - 1]!;
    j--;
  }
  best[j] = d;
}

/** Mean Euclidean distance from squared distances. */
function meanOfRoots(squares: Float64Array): number {
  let sum = 0;
  for (let j = 0; j < squares.length; j++) sum += Math.sqrt(squares[j]!);
  return sum / squares.length;
}
