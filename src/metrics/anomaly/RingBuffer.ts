/**
 * A fixed-capacity ring of numbers: the newest `capacity` values pushed, oldest overwritten.
 * One Float64Array allocated up front; push and read allocate nothing.
 */
export class RingBuffer {
  private readonly data: Float64Array;
  private head = 0; // index the next push writes to
  private count = 0;

  constructor(readonly capacity: number) {
    this.data = new Float64Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  push(value: number): void {
    this.data[this.head] = value;
    this.head = this.head + 1 === this.capacity ? 0 : this.head + 1;
    if (this.count < this.capacity) this.count++;
  }

  /** The value pushed `ago` pushes before the newest (0 = newest). Caller keeps `ago < size`. */
  get(ago: number): number {
    let i = this.head - 1 - ago;
    if (i < 0) i += this.capacity;
    return this.data[i]!;
  }

  /** Copies the values, oldest first, into `out` (which must hold `size` values); returns the count. */
  copyTo(out: Float64Array): number {
    const start = this.count < this.capacity ? 0 : this.head;
    for (let k = 0, i = start; k < this.count; k++) {
      out[k] = this.data[i]!;
      i = i + 1 === this.capacity ? 0 : i + 1;
    }
    return this.count;
  }
}
