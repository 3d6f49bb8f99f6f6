import type { HealthMetrics } from './types.js';

const FIELDS = 4; // timestamp, responseTime, errorRate, throughput

/**
 * The last `size` per-second readings of a span-driven component, packed in one Float64Array
 * (32 bytes a reading) rather than kept as objects: a thousand components with a minute each
 * stay under 2 MB.
 */
export class MetricsRing {
  private readonly data: Float64Array;
  private next = 0;
  private filled = 0;

  constructor(private readonly size: number) {
    this.data = new Float64Array(size * FIELDS);
  }

  get length(): number {
    return this.filled;
  }

  push(timestamp: number, responseTime: number, errorRate: number, throughput: number): void {
    const i = this.next * FIELDS;
    this.data[i] = timestamp;
    this.data[i + 1] = responseTime;
    this.data[i + 2] = errorRate;
    this.data[i + 3] = throughput;
    this.next = (this.next + 1) % this.size;
    if (this.filled < this.size) this.filled++;
  }

  /** Oldest first. */
  toArray(): HealthMetrics[] {
    const out: HealthMetrics[] = [];
    const start = this.filled < this.size ? 0 : this.next;
    for (let k = 0; k < this.filled; k++) {
      const i = ((start + k) % this.size) * FIELDS;
      out.push({ timestamp: this.data[i]!, responseTime: this.data[i + 1]!, errorRate: this.data[i + 2]!, throughput: this.data[i + 3]! });
    }
    return out;
  }

  /** (seconds since the first reading, value) pairs of one field over the readings newer than `sinceMs`. */
  series(field: 'responseTime' | 'errorRate', sinceMs: number): Array<[number, number]> {
    const f = field === 'responseTime' ? 1 : 2;
    const out: Array<[number, number]> = [];
    const start = this.filled < this.size ? 0 : this.next;
    let t0: number | undefined;
    for (let k = 0; k < this.filled; k++) {
      const i = ((start + k) % this.size) * FIELDS;
      const t = this.data[i]!;
      if (t < sinceMs) continue;
      t0 ??= t;
      out.push([(t - t0) / 1000, this.data[i + f]!]);
    }
    return out;
  }
}
