import { describe, expect, it } from 'vitest';
import { MetricsCollector } from '../../src/metrics/index.js';
import { fakeClock, gaussian, rng } from './metrics-helpers.js';

function setup() {
  const clock = fakeClock();
  return { clock, collector: new MetricsCollector({ clock }) };
}

/** Writes `perSecond` values of f(second) + noise for `seconds` seconds, ending inside the last second. */
function fill(
  c: { clock: ReturnType<typeof fakeClock>; collector: MetricsCollector },
  name: string,
  seconds: number,
  f: (s: number) => number,
  noise = 0,
  seed = 1,
) {
  const g = gaussian(rng(seed));
  for (let s = 0; s < seconds; s++) {
    for (let i = 0; i < 5; i++) c.collector.recordMetric(name, f(s) + noise * g());
    if (s < seconds - 1) c.clock.advance(1_000);
  }
}

describe('trend', () => {
  it('finds a rising trend in noisy data', () => {
    const c = setup();
    fill(c, 'lat', 60, (s) => 100 + 2 * s, 15);
    const t = c.collector.trend('lat', 60_000)!;
    expect(t.direction).toBe('increasing');
    expect(t.slopePerSecond).toBeGreaterThan(1.7);
    expect(t.slopePerSecond).toBeLessThan(2.3);
    expect(t.r2).toBeGreaterThan(0.8);
    expect(t.points).toBe(60);
    expect(t.bucketMs).toBe(1_000);
  });

  it('finds a falling trend in noisy data', () => {
    const c = setup();
    fill(c, 'free.mem', 60, (s) => 500 - 3 * s, 20, 2);
    expect(c.collector.trend('free.mem', 60_000)).toMatchObject({ direction: 'decreasing' });
  });

  it('calls flat noisy data stable, whatever the noise', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const c = setup();
      fill(c, 'flat', 60, () => 100, 10, seed);
      expect(c.collector.trend('flat', 60_000)!.direction, `seed ${seed}`).toBe('stable');
    }
  });

  it('calls a significant but tiny drift stable (under 5 % of the level across the range)', () => {
    const c = setup();
    fill(c, 'drift', 60, (s) => 1_000 + 0.05 * s);
    const t = c.collector.trend('drift', 60_000)!;
    expect(t.r2).toBeCloseTo(1, 6);
    expect(t.direction).toBe('stable');
  });

  it('uses the per-bucket increase of a counter (its rate)', () => {
    const c = setup();
    const requests = c.collector.counter('requests');
    for (let m = 0; m < 30; m++) {
      for (let i = 0; i < 10 + m * 5; i++) requests.add(1); // load grows every 10 s bucket... and every minute
      c.clock.advance(10_000);
    }
    const t = c.collector.trend('requests', 300_000)!;
    expect(t.bucketMs).toBe(10_000);
    expect(t.direction).toBe('increasing');
    expect(t.slopePerSecond).toBeCloseTo(0.5, 6); // +5 per 10 s bucket
  });

  it('needs values: nothing recorded gives undefined, two buckets are never a trend', () => {
    const c = setup();
    expect(c.collector.trend('none', 60_000)).toBeUndefined();
    c.collector.recordMetric('two', 1);
    c.clock.advance(1_000);
    c.collector.recordMetric('two', 100);
    expect(c.collector.trend('two', 60_000)).toMatchObject({ direction: 'stable', points: 2 });
    c.clock.advance(1_000);
    expect(c.collector.trend('two', 60_000, { not: 'there' })).toBeUndefined();
  });
});

describe('correlation', () => {
  it('is close to 1 for two metrics driven by the same load and close to 0 for independent ones', () => {
    const c = setup();
    const r = rng(3);
    const g = gaussian(rng(4));
    let load = 50;
    for (let s = 0; s < 60; s++) {
      load = Math.max(1, load + 10 * (r() - 0.5));
      for (let i = 0; i < 5; i++) {
        c.collector.recordMetric('cpu', load * 0.8 + g(), undefined, 'gauge');
        c.collector.recordMetric('latency', 20 + load * 2 + 2 * g(), { route: '/a' }, 'timer');
        c.collector.recordMetric('free', 1000 - load * 3 + 2 * g(), undefined, 'gauge');
        c.collector.recordMetric('noise', 10 + g(), undefined, 'gauge');
      }
      if (s < 59) c.clock.advance(1_000);
    }
    const same = c.collector.correlation('cpu', { name: 'latency', tags: { route: '/a' } }, 60_000)!;
    expect(same.coefficient).toBeGreaterThan(0.95);
    expect(same.points).toBe(60);
    expect(c.collector.correlation('cpu', 'free', 60_000)!.coefficient).toBeLessThan(-0.95);
    expect(Math.abs(c.collector.correlation('cpu', 'noise', 60_000)!.coefficient)).toBeLessThan(0.35);
  });

  it('uses only the buckets both metrics have, and gives undefined below 3 or for a constant', () => {
    const c = setup();
    for (let s = 0; s < 10; s++) {
      c.collector.recordMetric('a', s);
      c.collector.recordMetric('const', 7);
      if (s >= 8) c.collector.recordMetric('late', s * 2);
      c.clock.advance(1_000);
    }
    c.clock.advance(-1);
    expect(c.collector.correlation('a', 'late', 60_000)).toBeUndefined(); // 2 shared buckets
    expect(c.collector.correlation('a', 'const', 60_000)).toBeUndefined();
    expect(c.collector.correlation('a', 'missing', 60_000)).toBeUndefined();
    expect(c.collector.correlation('a', 'a', -1)).toBeUndefined();
    const self = c.collector.correlation('a', 'a', 60_000)!;
    expect(self.points).toBe(10);
    expect(self.coefficient).toBeCloseTo(1, 12);
  });
});
