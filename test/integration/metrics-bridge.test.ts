import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type HistogramMetricData,
  type SumMetricData,
} from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { MetricsCollector, createSdkMetricsBridge, type SdkMetricsBridge } from '../../src/metrics/index.js';
import { fakeClock } from '../unit/metrics-helpers.js';

const HTTP_BOUNDARIES = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
const ATTRS = { 'server.address': 'api.example.com', 'server.port': 443, 'http.request.method': 'GET' };
const TAGS = { 'server.address': 'api.example.com', 'server.port': '443', 'http.request.method': 'GET' };

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup) await fn();
  cleanup = [];
});

function setup(bridgeOptions: Parameters<typeof createSdkMetricsBridge>[1] = { intervalMs: 0 }) {
  const clock = fakeClock();
  const collector = new MetricsCollector({ clock });
  const bridge = createSdkMetricsBridge(collector, bridgeOptions) as SdkMetricsBridge;
  expect(bridge).toBeDefined();
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const userReader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ readers: [userReader, bridge] });
  cleanup.push(() => provider.shutdown());
  const meter = provider.getMeter('metrics-bridge-test');
  return { clock, collector, bridge, exporter, userReader, provider, meter };
}

function exported(exporter: InMemoryMetricExporter, name: string) {
  const all = exporter.getMetrics();
  const last = all[all.length - 1]!;
  return last.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name)!;
}

describe('SdkMetricsBridge beside a user reader', () => {
  it('feeds the HTTP client duration histogram (s → ms) and a user counter, and the user reader still gets everything', async () => {
    const { collector, bridge, exporter, userReader, meter } = setup();
    const duration = meter.createHistogram('http.client.request.duration', {
      unit: 's',
      advice: { explicitBucketBoundaries: HTTP_BOUNDARIES },
    });
    const orders = meter.createCounter('orders.placed');
    const seconds = [0.012, 0.02, 0.05, 0.08, 0.12, 0.3, 0.012, 0.045, 0.09, 1.5];
    for (const s of seconds) duration.record(s, ATTRS);
    orders.add(3, { shop: 'a' });
    orders.add(2, { shop: 'a' });

    expect(await bridge.poll()).toBeGreaterThanOrEqual(2);

    const agg = collector.requestAggregation('http.client.request.duration', 60_000, TAGS)!;
    expect(agg.type).toBe('timer');
    expect(agg.count).toBe(seconds.length);
    expect(agg.min).toBeCloseTo(12, 6);
    expect(agg.max).toBeCloseTo(1_500, 6);
    expect(agg.sum).toBeCloseTo(seconds.reduce((a, b) => a + b, 0) * 1_000, 6);
    // p50 from the SDK's exponential buckets: within a few % of 50 ms (the 5th of 10 values).
    expect(Math.abs(agg.p50 - 50) / 50).toBeLessThan(0.05);
    expect(collector.requestAggregation('orders.placed', 60_000, { shop: 'a' })).toMatchObject({ type: 'counter', sum: 5 });

    // DELTA: a second collection adds only what happened since the first.
    duration.record(0.2, ATTRS);
    orders.add(4, { shop: 'a' });
    await bridge.poll();
    expect(collector.requestAggregation('http.client.request.duration', 60_000, TAGS)!.count).toBe(seconds.length + 1);
    expect(collector.requestAggregation('orders.placed', 60_000)!.sum).toBe(9);

    // The user's reader was not taken away: cumulative totals and its own explicit buckets.
    await userReader.forceFlush();
    const userHistogram = exported(exporter, 'http.client.request.duration') as HistogramMetricData;
    expect(userHistogram.dataPointType).toBe(DataPointType.HISTOGRAM);
    expect(userHistogram.dataPoints[0]!.value.count).toBe(seconds.length + 1);
    expect(userHistogram.dataPoints[0]!.value.buckets.boundaries).toEqual(HTTP_BOUNDARIES);
    const userCounter = exported(exporter, 'orders.placed') as SumMetricData;
    expect(userCounter.aggregationTemporality).toBe(AggregationTemporality.CUMULATIVE);
    expect(userCounter.dataPoints[0]!.value).toBe(9);
  });

  it('feeds the DB client duration, gauges and up-down counters as levels', async () => {
    const { collector, bridge, meter } = setup();
    const db = meter.createHistogram('db.client.operation.duration', { unit: 's' });
    db.record(0.004, { 'db.system.name': 'postgresql' });
    db.record(0.006, { 'db.system.name': 'postgresql' });
    const active = meter.createUpDownCounter('http.client.active_requests');
    active.add(5);
    active.add(-2);
    meter.createObservableGauge('process.memory').addCallback((r) => r.observe(1234, { kind: 'rss' }));
    meter.createHistogram('payload.size', { unit: 'By' }).record(2_048);
    await bridge.poll();
    active.add(1); // cumulative for up-down counters: the collector sees the level 4, not +1
    await bridge.poll();

    expect(collector.requestAggregation('db.client.operation.duration', 60_000, { 'db.system.name': 'postgresql' })).toMatchObject({
      type: 'timer',
      count: 2,
      min: 4,
      max: 6,
    });
    expect(collector.realtime('http.client.active_requests')).toMatchObject({ type: 'gauge', last: 4 });
    expect(collector.realtime('process.memory', { kind: 'rss' })).toMatchObject({ type: 'gauge', last: 1234 });
    expect(collector.requestAggregation('payload.size', 60_000)).toMatchObject({ type: 'histogram', count: 1, max: 2_048 });
  });

  it('honours include, and caps attribute sets per instrument with the SDK overflow set', async () => {
    const { collector, bridge, meter } = setup({ intervalMs: 0, cardinalityLimit: 5, include: (name) => name !== 'secret' });
    const h = meter.createHistogram('per.user', { unit: 'ms' });
    for (let i = 0; i < 50; i++) h.record(i + 1, { user: `u${i}` });
    meter.createCounter('secret').add(1);
    await bridge.poll();
    expect(collector.series('secret')).toEqual([]);
    const series = collector.series('per.user');
    expect(series.length).toBeLessThanOrEqual(5);
    expect(series.some((s) => s.tags['otel.metric.overflow'] === 'true')).toBe(true);
    expect(collector.requestAggregation('per.user', 60_000)!.count).toBe(50);
  });

  it('polls on its own unref\'d interval once bound, and stops on shutdown', async () => {
    const { collector, bridge, provider, meter } = setup({ intervalMs: 100 });
    meter.createCounter('ticks').add(1);
    await new Promise((r) => setTimeout(r, 350));
    expect(collector.requestAggregation('ticks', 60_000)?.sum).toBe(1);
    meter.createCounter('ticks').add(2);
    await provider.shutdown(); // a last poll on shutdown
    cleanup = [];
    expect(collector.requestAggregation('ticks', 60_000)?.sum).toBe(3);
    expect(await bridge.poll()).toBe(0);
    await bridge.close(); // idempotent
  });

  it('poll before the bridge is bound resolves to 0 instead of throwing', async () => {
    const bridge = createSdkMetricsBridge(new MetricsCollector({ clock: fakeClock() }), { intervalMs: 0 })!;
    expect(await bridge.poll()).toBe(0);
    await bridge.close();
  });
});
