/**
 * A value beyond everything seen so far by more than `tolerance` of the seen range: the "spatial
 * anomaly" rule of Numenta's NAB detector (nab/detectors/numenta, SPATIAL_TOLERANCE = 0.05).
 * O(1) memory: only the running minimum and maximum are kept. `tolerance` 0 turns the rule off.
 */
export class RangeNovelty {
  private min = Number.POSITIVE_INFINITY;
  private max = Number.NEGATIVE_INFINITY;

  constructor(readonly tolerance: number) {}

  /** Width of the range seen so far (0 before two distinct values). */
  get range(): number {
    return this.max > this.min ? this.max - this.min : 0;
  }

  /** Whether `value` is novel, judged before it widens the range. */
  update(value: number): boolean {
    let novel = false;
    if (this.tolerance > 0 && this.max > this.min) {
      const slack = (this.max - this.min) * this.tolerance;
      novel = value > this.max + slack || value < this.min - slack;
    }
    if (value > this.max) this.max = value;
    if (value < this.min) this.min = value;
    return novel;
  }
}
