import { quantileSorted } from 'simple-statistics';
import { RingBuffer } from './RingBuffer.js';

/**
 * Turns a raw anomaly signal into a tail probability against its own recent history, so one
 * threshold serves every series whatever its units. Peaks over threshold with an exponential tail
 * (the ξ = 0 case of SPOT, Siffer et al., "Anomaly Detection in Streams with Extreme Value
 * Theory", KDD 2017): u = the (1 − q) quantile of the last `capacity` raw values, β = their mean
 * excess over u, and P(X ≥ x) ≈ q · exp(−(x − u) / β), capped at 1. (A GPD shape fitted by
 * moments or PWM scored worse on NAB: the extra parameter is too noisy on ~50 exceedances.)
 *
 * The fit is redone every `refitEvery` values on `scratch`, a buffer of at least `capacity`
 * numbers that several calibrators may share (fits never interleave): the values are copied and
 * sorted in place, so a fit allocates nothing.
 *
 * Memory: one ring of `capacity` numbers, plus the shared scratch.
 */
export class TailProbability {
  private readonly ring: RingBuffer;
  private sinceFit = 0;
  private u = 0;
  private beta = 0;
  private fitted = false;

  constructor(
    readonly capacity: number,
    readonly tailFraction: number,
    readonly refitEvery: number,
    readonly minSamples: number,
    private readonly scratch: Float64Array,
  ) {
    if (scratch.length < capacity) throw new RangeError('scratch must hold at least `capacity` numbers');
    this.ring = new RingBuffer(capacity);
  }

  /** Raw values held (at most `capacity`). */
  get size(): number {
    return this.ring.size;
  }

  /**
   * P(raw ≥ x) under the current fit; 1 before the first fit. `betaFloor` keeps a near-constant
   * history (β ≈ 0) from turning the smallest wiggle into a certainty.
   */
  pValue(x: number, betaFloor: number): number {
    if (!this.fitted) return 1;
    const beta = Math.max(this.beta, betaFloor, Number.MIN_VALUE);
    const p = this.tailFraction * Math.exp(-(x - this.u) / beta);
    return p < 1 ? p : 1;
  }

  /** Adds a raw value to the history (after it has been judged) and refits when due. */
  observe(x: number): void {
    this.ring.push(x);
    if (++this.sinceFit >= this.refitEvery && this.ring.size >= this.minSamples) this.fit();
  }

  private fit(): void {
    this.sinceFit = 0;
    const n = this.ring.copyTo(this.scratch);
    const sorted = this.scratch.subarray(0, n).sort();
    // simple-statistics reads any array-like; a typed array avoids copying into a plain one.
    const u = quantileSorted(sorted as unknown as number[], 1 - this.tailFraction);
    let sum = 0;
    let count = 0;
    for (let i = n - 1; i >= 0 && sorted[i]! > u; i--) {
      sum += sorted[i]! - u;
      count++;
    }
    this.u = u;
    this.beta = count > 0 ? sum / count : 0;
    this.fitted = true;
  }
}
