import { DataPointType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { CircuitBreakerRegistry } from '../../src/breaker/index.js';
import { HealthMonitor, type AnomalyEvent, type HealthStatus } from '../../src/health/index.js';
import { createAnomalyDetector } from '../../src/metrics/index.js';
import { RecoveryManager, type SelfHealingComponent } from '../../src/recovery/index.js';
import { BreakerTelemetry, HealthTelemetry, RecoveryTelemetry } from '../../src/telemetry/index.js';
import { METRIC_ANOMALIES, METRIC_RECOVERY_ON_HOLD } from '../../src/telemetry/names.js';
import { MAX_RELEASED_HOLDS, RecoveryMetrics, RELEASED_HOLD_MIN_MS } from '../../src/telemetry/RecoveryMetrics.js';
import { fakeClock } from '../support/clock.js';
import { rng } from '../support/random.js';

/** A pull reader: metrics are read only when the test collects. */
class PullReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

const FAILED: HealthStatus = { kind: 'failed', reason: 'error rate 60.0% >= failed threshold 50.0%' };

let cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

function pullProvider(): { reader: PullReader; provider: MeterProvider } {
  const reader = new PullReader();
  const provider = new MeterProvider({ readers: [reader] });
  cleanups.push(() => provider.shutdown());
  return { reader, provider };
}

type Point = Record<string, unknown> & { value: number };

/** The data points of metric `name` at one collection, as `{ ...attributes, value }` by component name, and the metric. */
async function read(reader: MetricReader, name: string) {
  const { resourceMetrics, errors } = await reader.collect();
  expect(errors).toEqual([]);
  const metric = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
  const points: Point[] = (metric?.dataPoints ?? []).map((p) => ({ ...p.attributes, value: p.value as number }));
  const byName = (p: Point) => String(p['selfheal.component.name']);
  points.sort((a, b) => byName(a).localeCompare(byName(b), 'en', { numeric: true }));
  return { metric, points };
}

/** A recovery manager with telemetry as the plugin wires it (the hub hands over the meter provider). */
function recoverySetup() {
  const { reader, provider } = pullProvider();
  const manager = new RecoveryManager({ verifyWindowMs: 0, jitter: 0, exploration: 0, plans: [{ failureType: 'error-rate', primary: 'restart', maxRetries: 0, retryDelayMs: 0 }] });
  manager.start();
  const hub = new BreakerTelemetry(new CircuitBreakerRegistry(), 'test');
  hub.useMeterProvider(provider);
  const telemetry = new RecoveryTelemetry(manager, hub, 'test');
  cleanups.push(() => manager.close(), () => telemetry.close());
  const onHold = async () => (await read(reader, METRIC_RECOVERY_ON_HOLD)).points;
  return { reader, manager, hub, onHold };
}

describe('selfheal.recovery.on_hold', () => {
  it('reports nothing until a component is held, 1 while held, 0 once acknowledged, 1 when held again', async () => {
    const t = recoverySetup();
    let restarts = 0;
    // Restarts, but stays failed: verification fails and the plan ends with a person.
    const broken: SelfHealingComponent = { name: 'svc', restart: async () => void restarts++, checkHealth: async () => FAILED };
    const healing: SelfHealingComponent = { name: 'cache', restart: async () => {}, checkHealth: async () => ({ kind: 'healthy' }) };
    t.manager.register(broken);
    t.manager.register(healing);
    expect(await t.onHold()).toEqual([]);

    expect((await t.manager.requestRecovery('cache', 'error-rate', FAILED)).outcome).toBe('recovered');
    expect(await t.onHold()).toEqual([]); // healed: never held, no series

    expect((await t.manager.requestRecovery('svc', 'error-rate', FAILED)).outcome).toBe('manual-intervention');
    expect(restarts).toBe(1);
    const held = await read(t.reader, METRIC_RECOVERY_ON_HOLD);
    expect(held.points).toEqual([{ 'selfheal.component.name': 'svc', value: 1 }]);
    expect(held.metric!.dataPointType).toBe(DataPointType.GAUGE);
    expect(held.metric!.descriptor.unit).toBe('1');

    // While held, requests are refused and the gauge stays up.
    expect(await t.manager.requestRecovery('svc', 'error-rate', FAILED)).toMatchObject({ outcome: 'skipped', reason: 'on-hold' });
    expect(await t.onHold()).toEqual([{ 'selfheal.component.name': 'svc', value: 1 }]);

    expect(t.manager.acknowledge('svc')).toBe(true);
    expect(await t.onHold()).toEqual([{ 'selfheal.component.name': 'svc', value: 0 }]);

    expect((await t.manager.requestRecovery('svc', 'error-rate', FAILED)).outcome).toBe('manual-intervention');
    expect(restarts).toBe(2);
    expect(await t.onHold()).toEqual([{ 'selfheal.component.name': 'svc', value: 1 }]);

    // Observable: a provider set later reports the hold that began before it.
    const late = pullProvider();
    t.hub.useMeterProvider(late.provider);
    expect((await read(late.reader, METRIC_RECOVERY_ON_HOLD)).points).toEqual([{ 'selfheal.component.name': 'svc', value: 1 }]);
  });

  it('reports a component released between two collections at 0, never leaving its last 1 behind', async () => {
    const t = recoverySetup();
    const names = ['a', 'b', 'c'];
    for (const name of names) t.manager.register({ name }); // no strategy to try: held at once
    await Promise.all(names.map((name) => t.manager.requestRecovery(name, 'error-rate', FAILED)));
    expect((await t.onHold()).map((p) => p.value)).toEqual([1, 1, 1]);
    for (const name of names) t.manager.acknowledge(name);
    expect(await t.onHold()).toEqual(names.map((name) => ({ 'selfheal.component.name': name, value: 0 })));
  });

  it(`keeps released components at 0 for ${RELEASED_HOLD_MIN_MS / 60_000} minutes, then only the last ${MAX_RELEASED_HOLDS}; held ones always count`, async () => {
    const clock = fakeClock();
    const manager = new RecoveryManager({ verifyWindowMs: 0, jitter: 0 });
    manager.start();
    cleanups.push(() => manager.close());
    const metrics = new RecoveryMetrics(manager, 'test', clock);
    const first = pullProvider();
    metrics.bind(first.provider);
    const onHold = async (reader: MetricReader) => (await read(reader, METRIC_RECOVERY_ON_HOLD)).points;

    const n = MAX_RELEASED_HOLDS + 5;
    const names = Array.from({ length: n }, (_, i) => `c${i}`);
    for (const name of names) manager.register({ name });
    const outcomes = await Promise.all(names.map((name) => manager.requestRecovery(name, 'error-rate', FAILED)));
    expect(outcomes.every((o) => o.outcome === 'manual-intervention')).toBe(true);
    const all = await onHold(first.reader);
    expect(all).toHaveLength(n); // every held component, past the limit
    expect(all.every((p) => p.value === 1)).toBe(true);

    for (const name of names) expect(manager.acknowledge(name)).toBe(true);
    clock.advance(RELEASED_HOLD_MIN_MS); // long after the release, but the first collection to see it
    const released = await onHold(first.reader);
    expect(released).toHaveLength(n);
    expect(released.every((p) => p.value === 0)).toBe(true);

    // A provider set anew gets just what the callback reports (the first one keeps exporting a
    // dropped series at its last value, 0: opentelemetry-js#4096).
    const rebound = async () => {
      const fresh = pullProvider();
      metrics.bind(fresh.provider);
      return { fresh, points: await onHold(fresh.reader) };
    };
    clock.advance(RELEASED_HOLD_MIN_MS - 1);
    expect((await rebound()).points).toHaveLength(n); // not yet 10 minutes at 0
    clock.advance(1);
    const { fresh, points: kept } = await rebound(); // the five released longest ago go now
    expect(kept).toHaveLength(MAX_RELEASED_HOLDS);
    expect(kept.every((p) => p.value === 0)).toBe(true);
    expect(new Set(kept.map((p) => p['selfheal.component.name']))).toEqual(new Set(names.slice(5)));

    expect((await manager.requestRecovery('c0', 'error-rate', FAILED)).outcome).toBe('manual-intervention');
    const again = await onHold(fresh.reader);
    expect(again).toHaveLength(MAX_RELEASED_HOLDS + 1);
    expect(again.filter((p) => p.value === 1)).toEqual([{ 'selfheal.component.name': 'c0', value: 1 }]);
  });
});

/** A health monitor with real latency anomaly detectors on a fake clock, and its telemetry on a pull reader. */
function healthSetup({ bind = true } = {}) {
  const { reader, provider } = pullProvider();
  const clock = fakeClock(0);
  const monitor = new HealthMonitor({}, { clock, detector: () => createAnomalyDetector() });
  const telemetry = new HealthTelemetry(monitor, 'test');
  if (bind) telemetry.useMeterProvider(provider);
  cleanups.push(() => telemetry.close());
  const events: AnomalyEvent[] = [];
  monitor.onAnomaly((e) => events.push(e));
  const random = rng(7);
  /** `seconds` of traffic, 20 calls a second to each of `latencies`' downstreams (ms), judged every 250 ms. */
  const run = (seconds: number, latencies: Record<string, () => number>) => {
    for (let s = 0; s < seconds * 4; s++) {
      for (let i = 0; i < 5; i++) {
        clock.advance(50);
        for (const [name, latency] of Object.entries(latencies)) monitor.observe(name, 'downstream', false, latency());
      }
      monitor.evaluate();
    }
  };
  const steady = () => 40 + 10 * random();
  // The detector learns a level it has seen: a second burst must go higher to stand out again.
  const slow = () => 200 + 20 * random();
  const slower = () => 600 + 20 * random();
  const anomalies = async () => (await read(reader, METRIC_ANOMALIES)).points;
  return { reader, provider, monitor, telemetry, events, run, steady, slow, slower, anomalies };
}

const INVENTORY = 'http://inventory:80';
const PRICING = 'http://pricing:80';
const point = (component: string, value: number) => ({ 'selfheal.component.name': component, 'selfheal.anomaly.metric': 'latency', value });

describe('selfheal.anomalies', () => {
  it('counts each selfheal.anomaly event per component, from a series at 0 before the first', async () => {
    const t = healthSetup();
    t.run(600, { [INVENTORY]: t.steady, [PRICING]: t.steady }); // 10 minutes of steady 40-50 ms
    expect(t.events).toEqual([]);
    const calm = await read(t.reader, METRIC_ANOMALIES);
    expect(calm.points).toEqual([point(INVENTORY, 0), point(PRICING, 0)]);
    expect(calm.metric!.dataPointType).toBe(DataPointType.SUM);
    expect(calm.metric!.dataPointType === DataPointType.SUM && calm.metric!.isMonotonic).toBe(true);
    expect(calm.metric!.descriptor.unit).toBe('{anomaly}');

    t.run(60, { [INVENTORY]: t.slow, [PRICING]: t.steady }); // inventory 4x slower for a minute
    const onInventory = t.events.filter((e) => e.component === INVENTORY).length;
    expect(onInventory).toBeGreaterThan(0);
    expect(t.events.every((e) => e.component === INVENTORY)).toBe(true);
    expect(await t.anomalies()).toEqual([point(INVENTORY, onInventory), point(PRICING, 0)]);

    // Cumulative: the count stays between collections and grows with the next events.
    expect(await t.anomalies()).toEqual([point(INVENTORY, onInventory), point(PRICING, 0)]);
    t.run(600, { [INVENTORY]: t.steady, [PRICING]: t.steady });
    t.run(60, { [INVENTORY]: t.slower, [PRICING]: t.steady });
    expect(t.events.length).toBeGreaterThan(onInventory);
    expect(t.events.every((e) => e.component === INVENTORY)).toBe(true);
    expect(await t.anomalies()).toEqual([point(INVENTORY, t.events.length), point(PRICING, 0)]);
  });

  it('forgets the count of a component the monitor forgets, starting again at 0 when it comes back', async () => {
    const t = healthSetup();
    t.run(600, { [INVENTORY]: t.steady, [PRICING]: t.steady });
    t.run(60, { [INVENTORY]: t.slow, [PRICING]: t.steady });
    expect(t.events.length).toBeGreaterThan(0);
    expect(await t.anomalies()).toEqual([point(INVENTORY, t.events.length), point(PRICING, 0)]);

    // Inventory gets no call for over the idle timeout (10 minutes): forgotten, with its detector.
    t.run(601, { [PRICING]: t.steady });
    expect(t.monitor.component(INVENTORY)).toBeUndefined();
    expect((await t.anomalies()).find((p) => p['selfheal.component.name'] === PRICING)).toEqual(point(PRICING, 0));

    // Back, with a new detector: its count starts again (a counter reset, which increase() handles).
    t.run(1, { [INVENTORY]: t.steady, [PRICING]: t.steady });
    expect(await t.anomalies()).toEqual([point(INVENTORY, 0), point(PRICING, 0)]);
  });

  it('reports the anomalies seen before a provider was set, once per provider', async () => {
    const t = healthSetup({ bind: false });
    t.run(600, { [INVENTORY]: t.steady });
    t.run(60, { [INVENTORY]: t.slow });
    expect(t.events.length).toBeGreaterThan(0);
    t.telemetry.useMeterProvider(t.provider);
    t.telemetry.useMeterProvider(t.provider); // the same provider again: still one series
    expect(await t.anomalies()).toEqual([point(INVENTORY, t.events.length)]);
  });
});
