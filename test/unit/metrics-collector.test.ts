import { max, mean, min, quantileSorted, sum } from 'simple-statistics';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { ConfigValidationError } from '../../src/config/index.js';
import { MetricsCollector, OVERFLOW_TAGS, type MetricDataPoint } from '../../src/metrics/index.js';
import { fakeClock, gaussian, rng } from './metrics-helpers.js';

function setup(options: ConstructorParameters<typeof MetricsCollector>[0] = {}) {
  const clock = fakeClock();
  const collector = new MetricsCollector({ clock, ...options });
  return { clock, collector };
}

/** Within the sketch's 1 % of one of the exact quantiles under the usual rank conventions. */
function expectQuantile(estimate: number, sorted: number[], q: number): void {
  const n = sorted.length;
  const exact = [quantileSorted(sorted, q), sorted[Math.max(0, Math.ceil(q * n) - 1)]!]; // interpolated and nearest-rank
  const err = Math.min(...exact.map((x) => Math.abs(estimate - x) / Math.abs(x)));
  expect(err).toBeLessThanOrEqual(0.0101);
}

describe('MetricsCollector aggregation', () => {
  it('gives exact avg, min, max, count and sum and sketch p95/p99 within 1 % of the exact values', () => {
    const { clock, collector } = setup();
    const g = gaussian(rng(42));
    const values: number[] = [];
    for (let s = 0; s < 50; s++) {
      for (let i = 0; i < 400; i++) {
        const v = Math.exp(4 + 0.8 * g()); // log-normal latencies, ms
        values.push(v);
        collector.recordMetric('db.query', v, undefined, 'histogram');
      }
      clock.advance(1_000);
    }
    clock.advance(-1); // still inside the last written second
    const agg = collector.requestAggregation('db.query', 60_000)!;
    const sorted = [...values].sort((a, b) => a - b);
    expect(agg.type).toBe('histogram');
    expect(agg.count).toBe(values.length);
    expect(agg.sum).toBeCloseTo(sum(values), 6);
    expect(agg.avg).toBeCloseTo(mean(values), 9);
    expect(agg.min).toBe(min(values));
    expect(agg.max).toBe(max(values));
    expectQuantile(agg.p50, sorted, 0.5);
    expectQuantile(agg.p95, sorted, 0.95);
    expectQuantile(agg.p99, sorted, 0.99);
    expect(agg.timeRangeMs).toBe(60_000);
    expect(agg.bucketMs).toBe(1_000);
    expect(agg.tags).toEqual({});
  });

  it('handles values below 1 (seconds) and negative values as well as large ones', () => {
    const { collector } = setup();
    const values = [0.003, 0.012, 0.02, 0.05, 0.08, 0.12, 0.3, 0.9, 0.0005, 0.04];
    for (const v of values) collector.recordMetric('s', v, undefined, 'histogram');
    const sorted = [...values].sort((a, b) => a - b);
    const agg = collector.requestAggregation('s', 1_000)!;
    expectQuantile(agg.p50, sorted, 0.5);
    expectQuantile(agg.p95, sorted, 0.95);
    expect(agg.min).toBe(0.0005);
    const negatives = [-5, -0.5, -0.05, -50];
    for (const v of negatives) collector.recordMetric('n', v);
    const n = collector.requestAggregation('n', 1_000)!;
    expectQuantile(n.p50, [...negatives].sort((a, b) => a - b), 0.5);
    expect(n.p99).toBeCloseTo(-0.05, 3); // a 1000× spread: the sketch collapses the most negative end, not this one
  });

  it('answers a range longer than the finest level from the coarser buckets', () => {
    const { clock, collector } = setup();
    const values: number[] = [];
    for (let m = 0; m < 30; m++) {
      for (let i = 0; i < 100; i++) {
        const v = 10 + m + i / 100;
        values.push(v);
        collector.recordMetric('lat', v, undefined, 'timer');
      }
      clock.advance(60_000);
    }
    const agg = collector.requestAggregation('lat', 3_600_000)!;
    expect(agg.bucketMs).toBe(60_000);
    expect(agg.count).toBe(3_000);
    expect(agg.min).toBe(10);
    expectQuantile(agg.p99, [...values].sort((a, b) => a - b), 0.99);
    const tenMinutes = collector.requestAggregation('lat', 600_000)!;
    expect(tenMinutes.bucketMs).toBe(10_000);
    // 30 minutes have passed since the first value: the 10 s level holds only the last 10 minutes.
    expect(tenMinutes.min).toBeGreaterThanOrEqual(30);
  });

  it('only counts the buckets inside the range and rolls buckets over as the clock moves', () => {
    const { clock, collector } = setup();
    collector.recordMetric('q', 1);
    clock.advance(30_000);
    collector.recordMetric('q', 100);
    expect(collector.requestAggregation('q', 1_000)).toMatchObject({ count: 1, min: 100, max: 100 });
    expect(collector.requestAggregation('q', 60_000)).toMatchObject({ count: 2, min: 1, max: 100 });
    clock.advance(40_000); // the first value is now 70 s old: out of the 60 s level, still in the 10 s one
    expect(collector.requestAggregation('q', 60_000)).toMatchObject({ count: 1, min: 100 });
    expect(collector.requestAggregation('q', 120_000)).toMatchObject({ count: 2, min: 1 });
    clock.advance(2 * 3_600_000); // beyond the coarsest level
    expect(collector.requestAggregation('q', 3_600_000)).toBeUndefined();
    expect(collector.requestAggregation('nothing', 60_000)).toBeUndefined();
    expect(collector.requestAggregation('q', 0)).toBeUndefined();
    expect(collector.requestAggregation('q', Number.NaN)).toBeUndefined();
  });

  it('merges all series of a name without tags and reads one series with its exact tags in any key order', () => {
    const { collector } = setup();
    collector.recordMetric('http', 10, { route: '/a', method: 'GET' }, 'timer');
    collector.recordMetric('http', 20, { method: 'GET', route: '/a' }, 'timer');
    collector.recordMetric('http', 300, { route: '/b', method: 'GET' }, 'timer');
    expect(collector.series('http')).toHaveLength(2);
    expect(collector.requestAggregation('http', 60_000)).toMatchObject({ count: 3, min: 10, max: 300, tags: {} });
    const a = collector.requestAggregation('http', 60_000, { method: 'GET', route: '/a' })!;
    expect(a).toMatchObject({ count: 2, avg: 15, tags: { method: 'GET', route: '/a' } });
    expect(collector.requestAggregation('http', 60_000, { route: '/c' })).toBeUndefined();
  });
});

describe('MetricsCollector metric types', () => {
  it('counters add increments and refuse negative ones', () => {
    const { collector } = setup();
    const c = collector.counter('requests', { code: '200' });
    c.add();
    c.add(4);
    c.add(-1);
    c.add(Number.NaN);
    expect(collector.requestAggregation('requests', 10_000)).toMatchObject({ type: 'counter', sum: 5, count: 2 });
    expect(collector.dropped).toBe(2);
  });

  it('gauges keep the latest value for the real-time view', () => {
    const { clock, collector } = setup();
    const g = collector.gauge('queue.depth');
    g.set(3);
    clock.advance(10);
    g.set(7);
    const rt = collector.realtime('queue.depth')!;
    expect(rt).toMatchObject({ type: 'gauge', last: 7, lastTimestamp: clock.t });
    expect(rt.current).toMatchObject({ count: 2, min: 3, max: 7, avg: 5, durationMs: 1_000 });
    clock.advance(1_000);
    expect(collector.realtime('queue.depth')).toMatchObject({ last: 7, current: undefined });
  });

  it('histograms record distributions', () => {
    const { collector } = setup();
    const h = collector.histogram('payload.bytes', { dir: 'in' });
    for (let i = 1; i <= 100; i++) h.record(i);
    expect(collector.requestAggregation('payload.bytes', 1_000, { dir: 'in' })).toMatchObject({ type: 'histogram', count: 100, min: 1, max: 100 });
  });

  it('timers record ms, time sync and async work, and pass errors through', async () => {
    const { collector } = setup();
    const t = collector.timer('work');
    t.record(12.5);
    expect(t.time(() => 'sync')).toBe('sync');
    expect(() =>
      t.time(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    await expect(t.time(() => new Promise((r) => setTimeout(() => r('async'), 20)))).resolves.toBe('async');
    await expect(t.time(() => Promise.reject(new Error('nope')))).rejects.toThrow('nope');
    const stop = t.start();
    const ms = stop();
    expect(ms).toBeGreaterThanOrEqual(0);
    const agg = collector.requestAggregation('work', 10_000)!;
    expect(agg.type).toBe('timer');
    expect(agg.count).toBe(6);
    expect(agg.max).toBeGreaterThanOrEqual(15); // the 20 ms timeout
  });

  it('keeps the type of the first value of a name', () => {
    const { collector } = setup();
    collector.recordMetric('x', 1, undefined, 'histogram');
    collector.recordMetric('x', 2, undefined, 'gauge');
    expect(collector.requestAggregation('x', 1_000)).toMatchObject({ type: 'histogram', count: 2 });
  });

  it('records pre-aggregated distributions exactly for count/sum/min/max', () => {
    const { collector } = setup();
    collector.recordDistribution('rpc', { count: 10, sum: 100, min: 2, max: 40, values: [5, 20], counts: [8, 2] }, undefined, 'timer');
    const agg = collector.requestAggregation('rpc', 1_000)!;
    expect(agg).toMatchObject({ count: 10, sum: 100, avg: 10, min: 2, max: 40 });
    expect(agg.p50).toBeCloseTo(5, 0);
    expect(agg.p99).toBeCloseTo(20, 0);
    collector.recordDistribution('rpc', { count: 0, sum: 0, min: 0, max: 0, values: [], counts: [] });
    collector.recordDistribution('rpc', { count: 1, sum: Number.NaN, min: 0, max: 0, values: [], counts: [] });
    expect(collector.dropped).toBe(2);
  });
});

describe('MetricsCollector views', () => {
  it('history gives one entry per non-empty bucket, oldest first', () => {
    const { clock, collector } = setup();
    for (let i = 0; i < 5; i++) {
      collector.recordMetric('cpu', i * 10);
      collector.recordMetric('cpu', i * 10 + 2);
      clock.advance(10_000);
    }
    clock.advance(20_000); // two empty buckets
    collector.recordMetric('cpu', 99);
    const h = collector.history('cpu', 300_000)!;
    expect(h.bucketMs).toBe(10_000);
    expect(h.buckets.map((b) => b.avg)).toEqual([1, 11, 21, 31, 41, 99]);
    expect(h.buckets[0]).toMatchObject({ count: 2, min: 0, max: 2, durationMs: 10_000, start: 1_700_000_040_000 });
    expect(h.buckets[1]!.p99).toBeCloseTo(12, 0);
  });
});

describe('MetricsCollector input handling', () => {
  it('drops NaN, Infinity, non-numbers, values past 1e290, empty names and counts them, never throwing', () => {
    const { collector } = setup();
    collector.recordMetric('v', Number.NaN);
    collector.recordMetric('v', Number.POSITIVE_INFINITY);
    collector.recordMetric('v', Number.NEGATIVE_INFINITY);
    collector.recordMetric('v', '5' as unknown as number);
    collector.recordMetric('v', 1e300);
    collector.recordMetric('', 1);
    collector.recordMetric(undefined as unknown as string, 1);
    collector.recordMetric('x'.repeat(300), 1);
    expect(collector.dropped).toBe(8);
    collector.recordMetric('v', 1e200);
    collector.recordMetric('v', -1e200);
    collector.recordMetric('v', 5e-324);
    const agg = collector.requestAggregation('v', 1_000)!;
    expect(agg).toMatchObject({ count: 3, max: 1e200, min: -1e200 });
    expect(Number.isFinite(agg.sum)).toBe(true);
    expect(collector.stats().dropped).toBe(8);
  });

  it('tolerates odd tag values: numbers, undefined, a throwing toString', () => {
    const { collector } = setup();
    const evil = { toString: () => { throw new Error('no'); } };
    collector.recordMetric('t', 1, { a: 1 as unknown as string, b: undefined as unknown as string });
    collector.recordMetric('t', 2, { a: '1' });
    expect(collector.series('t')).toEqual([{ name: 't', type: 'gauge', tags: { a: '1' } }]);
    expect(() => collector.recordMetric('t', 3, { c: evil as unknown as string })).not.toThrow();
    expect(collector.dropped).toBe(1);
  });

  it('cuts long tag values and routes tag sets with too many tags to the overflow series', () => {
    const { collector } = setup({ maxTagLength: 8, maxTagsPerSeries: 2 });
    collector.recordMetric('m', 1, { k: 'abcdefghijkl' });
    collector.recordMetric('m', 2, { k: 'abcdefghXXXX' }); // same first 8 characters: same series
    collector.recordMetric('m', 3, { a: '1', b: '2', c: '3' });
    expect(collector.series('m').map((s) => s.tags)).toEqual([{ k: 'abcdefgh' }, OVERFLOW_TAGS]);
    expect(collector.requestAggregation('m', 1_000, { k: 'abcdefgh' })!.count).toBe(2);
    expect(collector.stats().overflowed).toBe(1);
  });

  it('takes the SDK\'s own overflow tag set into the name\'s overflow series', () => {
    const { collector } = setup({ maxSeries: 1 });
    collector.recordMetric('o', 1, { 'otel.metric.overflow': 'true' });
    collector.recordMetric('o', 2, { a: '1' });
    collector.recordMetric('o', 3, { a: '2' }); // past maxSeries
    expect(collector.series('o').map((s) => s.tags)).toEqual([OVERFLOW_TAGS, { a: '1' }]);
    expect(collector.requestAggregation('o', 1_000, OVERFLOW_TAGS)).toMatchObject({ count: 2, sum: 4 });
  });

  it('stop drops values and start accepts them again', () => {
    const { collector } = setup();
    const g = collector.gauge('s');
    collector.stop();
    expect(collector.running).toBe(false);
    g.set(1);
    collector.recordMetric('s', 1);
    expect(collector.dropped).toBe(2);
    collector.start();
    g.set(2);
    expect(collector.requestAggregation('s', 1_000)!.count).toBe(1);
  });

  it('subscribers get every data point until they unsubscribe, and a throwing one does not reach the caller', () => {
    const { clock, collector } = setup();
    const seen: MetricDataPoint[] = [];
    const off = collector.subscribe((p) => seen.push(p));
    const offBad = collector.subscribe(() => {
      throw new Error('listener bug');
    });
    collector.recordMetric('p', 4, { a: 'b' }, 'histogram');
    off();
    offBad();
    collector.recordMetric('p', 5, { a: 'b' }, 'histogram');
    expect(seen).toEqual([{ name: 'p', type: 'histogram', value: 4, timestamp: clock.t, tags: { a: 'b' } }]);
  });

  it('option errors name the field', () => {
    const fields = (options: unknown) => {
      try {
        new MetricsCollector(options as never);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigValidationError);
        return (err as ConfigValidationError).problems.map((p) => p.path);
      }
      return [];
    };
    expect(fields({ maxSeries: 0 })).toEqual(['metrics.maxSeries']);
    expect(fields({ relativeAccuracy: 0.5 })).toEqual(['metrics.relativeAccuracy']);
    expect(fields({ levels: [{ bucketMs: 1000, buckets: 60 }, { bucketMs: 5, buckets: 10 }] })).toContain('metrics.levels[1].bucketMs');
    expect(fields({ levels: [{ bucketMs: 60_000, buckets: 60 }, { bucketMs: 1_000, buckets: 60 }] })).toEqual(['metrics.levels']);
    expect(fields({ clock: Date.now })).toEqual(['metrics.clock']);
    expect(fields({ maxSerie: 5 })).toEqual(['metrics']);
    expect(() => new MetricsCollector({ maxSeries: -1 })).toThrow(/metrics\.maxSeries must be at least 1/);
  });

  it('uses Date.now by default', () => {
    expect(new MetricsCollector().options.clock).toBe(systemClock);
  });
});
