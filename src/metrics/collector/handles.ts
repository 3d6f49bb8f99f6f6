import { performance } from 'node:perf_hooks';
import type { Series } from './Series.js';
import type { CounterHandle, GaugeHandle, HistogramHandle, MetricTags, MetricType, TimerHandle } from './types.js';

/** Values beyond this magnitude are dropped: beyond any measurement, and 1e15 of them still sum to a finite number. */
export const MAX_ABS_VALUE = 1e290;

/** What a handle needs from its collector. */
export interface SeriesSink {
  resolve(name: string, tags: MetricTags | undefined, type: MetricType): Series | undefined;
  write(series: Series, value: number): void;
  drop(): void;
}

/**
 * The one implementation behind the four typed handles. It resolves its series once, so a
 * write is a value check and a bucket update: no key is built. If the series is evicted
 * (memory budget) the next write resolves it again.
 */
export class SeriesHandle implements CounterHandle, GaugeHandle, HistogramHandle, TimerHandle {
  private series: Series | undefined;
  private readonly floor: number;

  constructor(
    private readonly sink: SeriesSink,
    private readonly name: string,
    private readonly tags: MetricTags | undefined,
    private readonly type: MetricType,
  ) {
    this.floor = type === 'counter' ? 0 : -MAX_ABS_VALUE;
    this.series = sink.resolve(name, tags, type);
  }

  add(n = 1): void {
    this.put(n);
  }

  set(value: number): void {
    this.put(value);
  }

  record(value: number): void {
    this.put(value);
  }

  time<T>(fn: () => T): T {
    const t0 = performance.now();
    let out: T;
    try {
      out = fn();
    } catch (err) {
      this.put(performance.now() - t0);
      throw err;
    }
    // Only a real Promise is followed: a query builder's `then` (knex, mongoose) may return
    // anything, and `time()` must hand back what `fn` returned.
    if (!(out instanceof Promise)) {
      this.put(performance.now() - t0);
      return out;
    }
    out.then(
      () => this.put(performance.now() - t0),
      () => this.put(performance.now() - t0),
    );
    return out;
  }

  start(): () => number {
    const t0 = performance.now();
    return () => {
      const ms = performance.now() - t0;
      this.put(ms);
      return ms;
    };
  }

  private put(value: number): void {
    if (typeof value !== 'number' || !(value >= this.floor && value <= MAX_ABS_VALUE)) {
      this.sink.drop();
      return;
    }
    let s = this.series;
    if (s === undefined || !s.alive) {
      s = this.series = this.sink.resolve(this.name, this.tags, this.type);
      if (s === undefined) {
        this.sink.drop();
        return;
      }
    }
    this.sink.write(s, value);
  }
}
