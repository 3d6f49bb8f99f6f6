/**
 * Where a breaker keeps its recent call outcomes. Both implementations keep running totals
 * (subtract on evict, as resilience4j documents), so recording and reading are O(1) and
 * nothing per call is retained beyond a fixed-size array.
 */
export interface OutcomeWindow {
  /** Calls currently in the window. */
  readonly total: number;
  /** Failed calls currently in the window. */
  readonly failures: number;
  /** Slow calls currently in the window (failed or not). */
  readonly slow: number;
  record(failed: boolean, slow: boolean, now: number): void;
  /** Ages out what is older than the window (a no-op for count windows). */
  refresh(now: number): void;
  reset(): void;
}

const FAILED = 1;
const SLOW = 2;

/** The last `size` calls. The ring is allocated on the first call, so idle breakers stay small. */
export class CountWindow implements OutcomeWindow {
  total = 0;
  failures = 0;
  slow = 0;
  private ring: Uint8Array | undefined;
  private next = 0;

  constructor(private readonly size: number) {}

  record(failed: boolean, slow: boolean): void {
    const ring = (this.ring ??= new Uint8Array(this.size));
    const i = this.next;
    if (this.total === this.size) {
      const old = ring[i]!;
      if (old & FAILED) this.failures--;
      if (old & SLOW) this.slow--;
    } else {
      this.total++;
    }
    ring[i] = (failed ? FAILED : 0) | (slow ? SLOW : 0);
    if (failed) this.failures++;
    if (slow) this.slow++;
    this.next = i + 1 === this.size ? 0 : i + 1;
  }

  refresh(): void {}

  reset(): void {
    this.total = this.failures = this.slow = this.next = 0;
    this.ring = undefined;
  }
}

/**
 * The calls of the last `seconds` seconds, in one-second buckets (resilience4j's TIME_BASED
 * window). A bucket is cleared when the clock passes it; no timer is involved.
 */
export class TimeWindow implements OutcomeWindow {
  total = 0;
  failures = 0;
  slow = 0;
  /** Per bucket: [total, failures, slow]. */
  private buckets: Uint32Array | undefined;
  /** The absolute second that the newest bucket holds. */
  private head = 0;

  constructor(private readonly seconds: number) {}

  record(failed: boolean, slow: boolean, now: number): void {
    this.refresh(now);
    const b = (this.buckets ??= new Uint32Array(this.seconds * 3));
    const i = (this.head % this.seconds) * 3;
    b[i]!++;
    this.total++;
    if (failed) {
      b[i + 1]!++;
      this.failures++;
    }
    if (slow) {
      b[i + 2]!++;
      this.slow++;
    }
  }

  refresh(now: number): void {
    const sec = Math.floor(now / 1000);
    if (sec <= this.head) return; // same second, or the clock stepped back: keep the newest bucket
    const b = this.buckets;
    if (b && this.total > 0) {
      const steps = Math.min(sec - this.head, this.seconds);
      for (let s = 1; s <= steps; s++) {
        const i = ((this.head + s) % this.seconds) * 3;
        this.total -= b[i]!;
        this.failures -= b[i + 1]!;
        this.slow -= b[i + 2]!;
        b[i] = b[i + 1] = b[i + 2] = 0;
      }
    }
    this.head = sec;
  }

  reset(): void {
    this.total = this.failures = this.slow = 0;
    this.buckets = undefined;
  }
}
