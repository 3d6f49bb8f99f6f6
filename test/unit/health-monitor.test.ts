import { describe, expect, it } from 'vitest';
import { CircuitBreakerRegistry } from '../../src/breaker/index.js';
import { ComponentWindow, HealthMonitor, type Alert, type HealthChange } from '../../src/health/index.js';
import { fakeClock } from './breaker-helpers.js';

/** A monitor on a fake clock, judged by hand (no timer). */
function setup(options: ConstructorParameters<typeof HealthMonitor>[0] = {}) {
  const clock = fakeClock(1_000_000);
  const registry = new CircuitBreakerRegistry({ clock, defaults: { minimumRequests: 100, windowSize: 100 } });
  const monitor = new HealthMonitor(options, { registry, clock });
  const changes: HealthChange[] = [];
  const alerts: Alert[] = [];
  monitor.onChange((c) => changes.push(c));
  monitor.onAlert((a) => alerts.push(a));
  /** `calls` calls spread over `ms`, then one evaluation. */
  const traffic = (name: string, calls: number, failRate: number, latencyMs: number, ms = 250, kind: 'downstream' | 'route' = 'downstream') => {
    for (let i = 0; i < calls; i++) {
      clock.advance(ms / calls);
      monitor.observe(name, kind, i < Math.round(calls * failRate), latencyMs);
    }
    monitor.evaluate();
  };
  return { clock, registry, monitor, changes, alerts, traffic };
}

describe('ComponentWindow', () => {
  it('reports counts, error rate and latency percentiles within a bin width', () => {
    const w = new ComponentWindow();
    for (let i = 1; i <= 1000; i++) w.record(5_000, i % 10 === 0, i); // latencies 1..1000 ms
    const s = w.snapshot(5_000);
    expect(s.count).toBe(1000);
    expect(s.errorRate).toBeCloseTo(0.1);
    expect(s.p50 / 500).toBeGreaterThan(0.85);
    expect(s.p50 / 500).toBeLessThan(1.15);
    expect(s.p95 / 950).toBeGreaterThan(0.85);
    expect(s.p99 / 990).toBeLessThan(1.15);
  });

  it('forgets calls older than its 10 s window, whatever the gap', () => {
    const w = new ComponentWindow();
    w.record(1_000, true, 10);
    w.record(5_500, false, 10);
    expect(w.snapshot(10_999).count).toBe(2);
    expect(w.snapshot(11_000).count).toBe(1);
    expect(w.snapshot(1_000_000).count).toBe(0);
  });
});

describe('HealthMonitor', () => {
  it('marks a failing downstream failed within two evaluations, alerts, and opens its breaker', () => {
    const { monitor, registry, changes, alerts, traffic } = setup();
    const breaker = registry.get('http://db.internal:80');
    traffic('http://db.internal:80', 20, 0, 20);
    expect(monitor.component('http://db.internal:80')?.status.kind).toBe('healthy');
    traffic('http://db.internal:80', 40, 1, 20);
    expect(monitor.component('http://db.internal:80')?.status).toEqual({
      kind: 'failed',
      reason: 'error rate 54.1% >= failed threshold 50.0% (40 of 60 calls failed in the last 10 s; at least 54.1% at 95% confidence)',
    });
    expect(changes.map((c) => `${c.from.kind}->${c.to.kind}`)).toEqual(['healthy->failed']);
    expect(alerts).toEqual([expect.objectContaining({ severity: 'critical', component: 'http://db.internal:80' })]);
    expect(breaker.peekState()).toBe('open');
  });

  it('reacts to the last calls even after a long healthy spell fills the window', () => {
    const { monitor, traffic } = setup();
    for (let i = 0; i < 36; i++) traffic('http://a:80', 12, 0, 20); // 9 s of good calls: 432 in the window
    traffic('http://a:80', 32, 1, 20); // then 32 failures in a row
    const s = monitor.component('http://a:80')!.status;
    expect(s.kind).toBe('failed');
    expect(s.kind !== 'healthy' && s.reason).toMatch(/\(32 of 32 calls failed of the last calls; at least 89\.\d% at 95% confidence\)$/);
  });

  it('does not flap on one slow or failed burst: a worse reading must repeat', () => {
    const { monitor, changes, traffic } = setup();
    for (let i = 0; i < 10; i++) traffic('http://a:80', 10, 0, 20);
    traffic('http://a:80', 10, 0, 3_000); // one tick of slow calls: p95 > 1 s
    expect(monitor.component('http://a:80')?.status.kind).toBe('healthy');
    expect(changes).toEqual([]);
  });

  it('recovers after three good readings and lets the breaker probe at once', () => {
    const { monitor, registry, clock, traffic } = setup();
    const breaker = registry.get('http://a:80');
    traffic('http://a:80', 40, 1, 20);
    expect(breaker.peekState()).toBe('open');
    clock.advance(10_000); // the failures leave the window
    for (let i = 0; i < 2; i++) traffic('http://a:80', 20, 0, 20);
    expect(monitor.component('http://a:80')?.status.kind).toBe('failed');
    traffic('http://a:80', 20, 0, 20);
    expect(monitor.component('http://a:80')?.status.kind).toBe('healthy');
    expect(breaker.retryAt).toBeLessThanOrEqual(clock.now());
    expect(breaker.tryAcquire()).toBeGreaterThanOrEqual(0); // the next call probes
    expect(breaker.peekState()).toBe('half-open');
  });

  it('judges the error rate by its 95% lower bound: one failure in twenty calls is not 5%', () => {
    const { monitor, traffic } = setup();
    traffic('http://a:80', 20, 0.05, 20);
    for (let i = 0; i < 20; i++) monitor.evaluate();
    expect(monitor.component('http://a:80')?.metrics.errorRate).toBe(0.05);
    expect(monitor.component('http://a:80')?.status.kind).toBe('healthy');
  });

  it('leaves a component as it was when too few calls arrive to judge', () => {
    const { monitor, traffic } = setup({ minCalls: 5 });
    traffic('http://a:80', 4, 1, 20);
    expect(monitor.component('http://a:80')?.status.kind).toBe('healthy');
    expect(monitor.component('http://a:80')?.metrics.errorRate).toBeUndefined();
  });

  it('rolls up: a failed downstream degrades the service but leaves it ready; a failed route fails it', () => {
    const { monitor, traffic } = setup();
    traffic('http://a:80', 40, 1, 20);
    expect(monitor.systemHealth().status).toEqual({ kind: 'degraded', reason: 'http://a:80 is failed' });
    expect(monitor.readiness().ready).toBe(true);
    traffic('GET /orders', 40, 1, 20, 250, 'route');
    expect(monitor.systemHealth().status.kind).toBe('failed');
    expect(monitor.readiness().ready).toBe(false);
    expect(monitor.systemHealth().counts).toEqual({ healthy: 0, degraded: 0, critical: 0, failed: 2 });
    expect(monitor.systemHistory().map((h) => h.status.kind)).toEqual(['degraded', 'failed']);
  });

  it('an open breaker alone makes the service degraded, and still ready', () => {
    const { monitor, registry } = setup();
    registry.get('http://x:80').forceOpen();
    monitor.evaluate();
    expect(monitor.systemHealth().status).toEqual({ kind: 'degraded', reason: 'circuit breaker http://x:80 is open' });
    expect(monitor.readiness().ready).toBe(true);
  });

  it('takes pushed readings: statuses as given, metrics classified, both through hysteresis', () => {
    const { monitor } = setup();
    expect(monitor.report('payments', { kind: 'critical', reason: 'queue full' })).toEqual({ kind: 'healthy' });
    expect(monitor.report('payments', { kind: 'critical', reason: 'queue full' })).toEqual({ kind: 'critical', reason: 'queue full' });
    monitor.report('cache', { timestamp: 0, memoryUsage: 0.97 });
    expect(monitor.report('cache', { timestamp: 0, memoryUsage: 0.97 }).kind).toBe('critical');
    expect(monitor.healthHistory('cache').map((s) => s.kind)).toEqual(['critical']);
  });

  it('predicts when a rising error rate will cross the next threshold', () => {
    const { monitor, traffic } = setup({ minCalls: 1 });
    // error rate rising ~1 point per second, from 0
    for (let s = 0; s < 10; s++) for (let q = 0; q < 4; q++) traffic('http://a:80', 100, s / 100, 20);
    const p = monitor.predict('http://a:80');
    const err = p.find((x) => x.metric === 'errorRate');
    expect(err).toBeDefined();
    expect(err!.level).toBe('degraded');
    expect(err!.slope).toBeGreaterThan(0);
    expect(err!.etaMs).toBeGreaterThan(0);
    expect(err!.etaMs).toBeLessThan(120_000);
  });

  it('caps the number of components: a million names share one overflow component', () => {
    const { monitor } = setup({ maxComponents: 100 });
    for (let i = 0; i < 1_000_000; i++) monitor.observe(`http://h${i}:80`, 'downstream', false, 1);
    expect(monitor.list().length).toBe(101);
    expect(monitor.component('(overflow) downstream')).toBeDefined();
  });

  it('handles signals in order: thresholds, component updated, monitor rate, shutdown', () => {
    const { monitor, traffic } = setup();
    traffic('http://a:80', 50, 0.06, 20);
    traffic('http://a:80', 50, 0.06, 20);
    expect(monitor.component('http://a:80')?.status.kind).toBe('healthy'); // 6% of 100: not surely over 5%
    monitor.signal({ kind: 'update-alert-thresholds', thresholds: { errorRate: { degraded: 0.02 } } });
    traffic('http://a:80', 50, 0.06, 20);
    traffic('http://a:80', 50, 0.06, 20);
    expect(monitor.component('http://a:80')?.status.kind).toBe('degraded');
    monitor.signal({ kind: 'component-updated', component: 'http://a:80' });
    expect(monitor.component('http://a:80')?.status.kind).toBe('healthy');
    monitor.start();
    monitor.signal({ kind: 'adjust-monitor-rate', intervalMs: 50 });
    expect(monitor.running).toBe(true);
    monitor.signalSender()({ kind: 'shutdown' });
    expect(monitor.running).toBe(false);
  });

  it('names the field of a bad option', () => {
    expect(() => new HealthMonitor({ minCalls: 0 })).toThrow(/health\.minCalls must be a whole number of at least 1, got 0/);
    expect(() => new HealthMonitor({ thresholds: { errorRate: { degraded: 0.5, critical: 0.1 } } })).toThrow(/errorRate must rise from degraded to critical to failed/);
  });
});

describe('HealthMonitor with a broken anomaly detector', () => {
  it('still tracks and judges components when the factory or the detector throws', () => {
    const clock = fakeClock(1_000_000);
    let made = 0;
    const monitor = new HealthMonitor(
      { minCalls: 1 },
      {
        clock,
        detector: () => {
          if (made++ === 0) throw new Error('factory bug');
          return {
            update: () => {
              throw new Error('detector bug');
            },
          };
        },
      },
    );
    for (const name of ['http://a:80', 'http://b:80']) {
      for (let i = 0; i < 10; i++) monitor.observe(name, 'downstream', true, 5);
    }
    clock.advance(1_000);
    monitor.evaluate();
    monitor.evaluate();
    expect(monitor.component('http://a:80')?.status.kind).toBe('failed');
    expect(monitor.component('http://b:80')?.status.kind).toBe('failed');
  });
});

describe('HealthMonitor, review fixes', () => {
  it('an unhealthy component with no more failures in its window fades back to healthy without traffic', () => {
    const { monitor, clock, traffic } = setup();
    traffic('GET /orders', 40, 1, 20, 250, 'route');
    expect(monitor.readiness().ready).toBe(false);
    for (let s = 0; s < 15; s++) {
      clock.advance(1000);
      monitor.evaluate();
    }
    expect(monitor.component('GET /orders')?.status.kind).toBe('healthy');
    expect(monitor.readiness().ready).toBe(true);
  });

  it('a downstream whose breaker is open keeps its status while no calls arrive', () => {
    const { monitor, clock, traffic, registry } = setup();
    registry.get('http://a:80');
    traffic('http://a:80', 40, 1, 20);
    expect(registry.find('http://a:80')!.peekState()).toBe('open');
    for (let s = 0; s < 15; s++) {
      clock.advance(1000);
      monitor.evaluate();
    }
    expect(monitor.component('http://a:80')?.status.kind).toBe('failed');
  });

  it('overflowing routes never fail the service for a downstream: one overflow component per kind', () => {
    const { monitor, traffic } = setup({ maxComponents: 2 });
    traffic('GET /a', 5, 0, 20, 250, 'route');
    traffic('GET /b', 5, 0, 20, 250, 'route');
    traffic('http://dead:80', 40, 1, 20);
    expect(monitor.component('(overflow) downstream')?.status.kind).toBe('failed');
    expect(monitor.readiness().ready).toBe(true);
  });

  it('readings alternating between two worse levels still move the status, to the milder one', () => {
    const { monitor } = setup();
    for (let i = 0; i < 4; i++) monitor.report('q', i % 2 ? { kind: 'critical', reason: 'c' } : { kind: 'degraded', reason: 'd' });
    expect(monitor.component('q')?.status.kind).toBe('degraded');
  });

  it('rejects a bad monitor-rate signal and a malformed reading, naming the field', () => {
    const { monitor } = setup();
    expect(() => monitor.signal({ kind: 'adjust-monitor-rate', intervalMs: Number.NaN })).toThrow(/signal\.intervalMs must be a whole number/);
    expect(() => monitor.report('x', null as never)).toThrow(/health\.report reading must be/);
    expect(() => monitor.report('x', { kind: 'bogus' } as never)).toThrow(/reading\.kind must be healthy, degraded, critical or failed, got "bogus"/);
  });
});
