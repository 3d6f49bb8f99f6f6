import { diag } from '@opentelemetry/api';
import { describe, expect, it, vi } from 'vitest';
import { ConfigValidationError } from '../../src/config/index.js';
import { MetricsCollector, createSdkMetricsBridge } from '../../src/metrics/index.js';
import { attributesToTags, explicitToDistribution, exponentialToDistribution } from '../../src/metrics/reader/convert.js';
import { fakeClock } from './metrics-helpers.js';

const loaded = vi.hoisted(() => ({ absent: false }));
vi.mock('../../src/load.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/load.js')>();
  return { loadOptional: (name: string) => (loaded.absent ? undefined : real.loadOptional(name)) };
});

describe('createSdkMetricsBridge', () => {
  it('returns undefined with a diag warning when @opentelemetry/sdk-metrics is not installed', () => {
    const warn = vi.spyOn(diag, 'warn').mockImplementation(() => {});
    loaded.absent = true;
    try {
      expect(createSdkMetricsBridge(new MetricsCollector({ clock: fakeClock() }))).toBeUndefined();
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('@opentelemetry/sdk-metrics is not installed'));
    } finally {
      loaded.absent = false;
      warn.mockRestore();
    }
  });

  it('option errors name the field', () => {
    const collector = new MetricsCollector({ clock: fakeClock() });
    expect(() => createSdkMetricsBridge(collector, { intervalMs: 50 })).toThrow(ConfigValidationError);
    expect(() => createSdkMetricsBridge(collector, { intervalMs: 50 })).toThrow(/metricsBridge\.intervalMs must be 0 \(no timer\) or at least 100/);
    expect(() => createSdkMetricsBridge(collector, { cardinalityLimit: 0 })).toThrow(/metricsBridge\.cardinalityLimit/);
    expect(() => createSdkMetricsBridge(collector, { include: 'all' as never })).toThrow(/metricsBridge\.include must be a function/);
  });
});

describe('SDK data points as collector input', () => {
  it('turns attributes into bounded string tags', () => {
    expect(attributesToTags({ a: 'x', n: 200, ok: true, list: ['p', 'q'], gone: undefined })).toEqual({ a: 'x', n: '200', ok: 'true', list: 'p,q' });
  });

  it('places explicit buckets at their middles, narrowed by min and max', () => {
    const d = explicitToDistribution(
      { buckets: { boundaries: [0.01, 0.1, 1], counts: [1, 2, 0, 1] }, count: 4, sum: 1.2, min: 0.004, max: 1.05 },
      1_000,
    )!;
    expect(d).toMatchObject({ count: 4, min: 4, max: 1_050 });
    expect(d.sum).toBeCloseTo(1_200, 9);
    expect(d.values.length).toBe(3);
    expect(d.values[0]).toBeCloseTo(7, 9); // (4 + 10) / 2
    expect(d.values[1]).toBeCloseTo(55, 9); // (10 + 100) / 2
    expect(d.values[2]).toBeCloseTo(1_025, 9); // (1000 + 1050) / 2
    expect(Array.from(d.counts)).toEqual([1, 2, 1]);
  });

  it('uses bucket edges when min and max were not recorded, and skips empty points', () => {
    const d = explicitToDistribution({ buckets: { boundaries: [10, 20], counts: [0, 3, 0] }, count: 3 }, 1)!;
    expect(d).toMatchObject({ min: 10, max: 20, sum: 45 });
    expect(explicitToDistribution({ buckets: { boundaries: [10], counts: [0, 0] }, count: 0 }, 1)).toBeUndefined();
  });

  it('places exponential buckets at their geometric middles, negatives and zeros included', () => {
    const d = exponentialToDistribution(
      {
        count: 4,
        sum: 2,
        scale: 0,
        zeroCount: 1,
        positive: { offset: 1, bucketCounts: [1, 1] }, // (2, 4] and (4, 8]
        negative: { offset: 0, bucketCounts: [1] }, // [-2, -1)
        min: -1.5,
        max: 5,
      },
      1,
    )!;
    expect(Array.from(d.values).map((v) => Number(v.toFixed(4)))).toEqual([-1.4142, 0, 2.8284, 5.6569]);
    expect(Array.from(d.counts)).toEqual([1, 1, 1, 1]);
    expect(d).toMatchObject({ count: 4, sum: 2, min: -1.5, max: 5 });
  });
});
