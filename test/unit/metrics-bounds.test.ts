import { describe, expect, it } from 'vitest';
import { MetricsCollector, OVERFLOW_TAGS } from '../../src/metrics/index.js';
import { fakeClock } from './metrics-helpers.js';

describe('MetricsCollector memory bounds', () => {
  it('a million distinct tag sets leave the series count at the cap, the rest in the overflow series', () => {
    const clock = fakeClock();
    const collector = new MetricsCollector({ clock });
    const heapBefore = process.memoryUsage().heapUsed;
    for (let i = 0; i < 1_000_000; i++) {
      collector.recordMetric('http.server.duration', i % 500, { 'user.id': `u${i}` }, 'timer');
      if (i % 10_000 === 0) clock.advance(100);
    }
    const stats = collector.stats();
    expect(stats.series).toBe(10_001); // maxSeries + one overflow series for the name
    expect(stats.names).toBe(1);
    expect(stats.overflowed).toBe(990_000);
    expect(stats.estimatedBytes).toBeLessThan(50_000_000);
    const overflow = collector.requestAggregation('http.server.duration', 60_000, OVERFLOW_TAGS)!;
    expect(overflow.count).toBe(990_000);
    expect(collector.requestAggregation('http.server.duration', 60_000)!.count).toBe(1_000_000);
    // Loose: garbage from the loop is counted too; what matters is that it is not ~1M series (~1 GB).
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(250_000_000);
  });

  it('past maxNames, values of new names are dropped', () => {
    const collector = new MetricsCollector({ clock: fakeClock(), maxNames: 3 });
    for (let i = 0; i < 10; i++) collector.recordMetric(`m${i}`, 1);
    expect(collector.stats()).toMatchObject({ names: 3, series: 3, dropped: 7 });
  });

  it('stays under maxMemoryBytes by evicting the least recently written series; their handles come back', () => {
    const clock = fakeClock();
    const collector = new MetricsCollector({ clock, maxMemoryBytes: 1_000_000 });
    const first = collector.gauge('g', { n: 'first' });
    first.set(1);
    let peak = 0;
    for (let i = 0; i < 5_000; i++) {
      clock.advance(1);
      collector.recordMetric('g', i, { n: String(i) });
      peak = Math.max(peak, collector.stats().estimatedBytes);
    }
    const stats = collector.stats();
    expect(stats.evicted).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(1_000_000 + 4_000); // one write's growth past the budget at most
    expect(collector.requestAggregation('g', 60_000, { n: 'first' })).toBeUndefined(); // oldest went first
    expect(collector.requestAggregation('g', 60_000, { n: '4999' })!.count).toBe(1); // newest kept
    first.set(2);
    expect(collector.requestAggregation('g', 60_000, { n: 'first' })).toMatchObject({ count: 1, max: 2 });
  });

  it('keeps its byte accounting exact through growth, recycling, trimming and eviction', () => {
    const clock = fakeClock();
    const collector = new MetricsCollector({ clock, maxMemoryBytes: 1_000_000 });
    for (let s = 0; s < 900; s++) {
      for (let k = 0; k < 40; k++) {
        if ((s + k) % 3 === 0) collector.recordMetric('lat', Math.exp((k % 9) + (s % 13) / 3), { k: String((k * s) % 97) }, 'timer');
      }
      collector.recordMetric('neg', -(s % 50) - 0.001, undefined, 'gauge');
      clock.advance(4_000);
    }
    const stats = collector.stats();
    expect(stats.evicted + stats.trimmedBuckets).toBeGreaterThan(0);
    // Recount from the structures themselves (internal, on purpose: the meter is only an estimate
    // if it drifts from what is held).
    const table = (collector as unknown as { table: { families: Map<string, { name: string; members: Array<{ bytes: number; alive: boolean }> }> } }).table;
    let bytes = 0;
    for (const family of table.families.values()) {
      bytes += 400 + 2 * family.name.length;
      for (const s of family.members) {
        expect(s.alive).toBe(true);
        bytes += s.bytes;
      }
    }
    expect(stats.estimatedBytes).toBe(bytes);
  });

  it('under memory pressure from busy series, shortens every series\' history instead of evicting series', () => {
    const clock = fakeClock();
    const collector = new MetricsCollector({ clock, maxMemoryBytes: 1_000_000 });
    const timers = Array.from({ length: 20 }, (_, k) => collector.timer('db', { table: `t${k}` }));
    let peak = 0;
    for (let s = 0; s < 3_600; s++) {
      for (const t of timers) t.record(5 + (s % 7));
      peak = Math.max(peak, collector.stats().estimatedBytes);
      clock.advance(1_000);
    }
    clock.advance(-1);
    const stats = collector.stats();
    expect(stats.evicted).toBe(0);
    expect(stats.trimmedBuckets).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(1_000_000 + 4_000);
    for (let k = 0; k < 20; k++) {
      expect(collector.requestAggregation('db', 60_000, { table: `t${k}` })!.count).toBe(60); // recent data intact
      const hour = collector.requestAggregation('db', 3_600_000, { table: `t${k}` })!.count;
      expect(hour).toBeLessThan(3_600); // the oldest part is gone...
      expect(hour).toBeGreaterThanOrEqual(60); // ...never the last minute
    }
  });

  it('a busy series stops growing once its rings are full (buckets are recycled)', () => {
    const clock = fakeClock();
    const collector = new MetricsCollector({ clock });
    const t = collector.timer('steady');
    const bytesAt = (hours: number) => {
      while (clock.t < 1_700_000_040_000 + hours * 3_600_000) {
        t.record(5 + (clock.t % 997) / 10); // 5 .. 105 ms: a 20× spread in most buckets
        clock.advance(250);
      }
      return collector.stats().estimatedBytes;
    };
    const afterOneHour = bytesAt(1.05);
    const afterThreeHours = bytesAt(3);
    expect(afterThreeHours).toBeLessThanOrEqual(afterOneHour * 1.05);
    // The structural bound: 180 buckets × (bucket + store headers + 256 two-byte bins) + the series.
    expect(afterThreeHours).toBeLessThanOrEqual(180 * (180 + 240 + 2 * 256) + 2_000);
    // The hour is the current (just begun, empty) minute and the 59 before it, 240 values each.
    expect(collector.requestAggregation('steady', 3_600_000)!.count).toBe(59 * 240);
  });
});
