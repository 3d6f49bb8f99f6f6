/**
 * The newest `capacity` items pushed, the oldest overwritten: a health history that stays the
 * same size however long the monitor runs. Push allocates nothing; `toArray()` copies.
 */
export class BoundedHistory<T> {
  private readonly items: Array<T | undefined>;
  private head = 0; // index the next push writes to
  private count = 0;

  constructor(readonly capacity: number) {
    this.items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  push(item: T): void {
    this.items[this.head] = item;
    this.head = this.head + 1 === this.capacity ? 0 : this.head + 1;
    if (this.count < this.capacity) this.count++;
  }

  /** The newest item, if any. */
  latest(): T | undefined {
    return this.count === 0 ? undefined : this.items[this.head === 0 ? this.capacity - 1 : this.head - 1];
  }

  /** A copy of the items, oldest first. */
  toArray(): T[] {
    const out = new Array<T>(this.count);
    let i = this.count < this.capacity ? 0 : this.head;
    for (let k = 0; k < this.count; k++) {
      out[k] = this.items[i] as T;
      i = i + 1 === this.capacity ? 0 : i + 1;
    }
    return out;
  }

  clear(): void {
    this.items.fill(undefined);
    this.head = 0;
    this.count = 0;
  }
}
