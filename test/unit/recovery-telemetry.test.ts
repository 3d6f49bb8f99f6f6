import { SpanStatusCode, TraceFlags, type SpanContext } from '@opentelemetry/api';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { CircuitBreakerRegistry } from '../../src/breaker/index.js';
import type { HealthStatus } from '../../src/health/index.js';
import { RecoveryManager, type RecoveryManagerOptions, type SelfHealingComponent } from '../../src/recovery/index.js';
import { BreakerTelemetry, RecoveryTelemetry } from '../../src/telemetry/index.js';

class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

const FAILED: HealthStatus = { kind: 'failed', reason: 'error rate 60.0% >= failed threshold 50.0%' };
const CRITICAL: HealthStatus = { kind: 'critical', reason: 'error rate 30.0% >= critical threshold 25.0%' };
const HEALTHY: HealthStatus = { kind: 'healthy' };
const SECRET = 's3cret-pa55';

const evidence: SpanContext[] = [
  { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED },
  { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED },
];
const INVALID: SpanContext = { traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 0 };

type Health = { health: HealthStatus };

/** A component whose checkHealth reports `health` and whose actions are the given functions. */
function component(name: string, actions: Partial<Pick<SelfHealingComponent, 'restart' | 'reconfigure'>>): SelfHealingComponent & Health {
  const c: SelfHealingComponent & Health = { name, health: FAILED, checkHealth: async () => c.health, ...actions };
  return c;
}

let cleanups: Array<() => unknown> = [];

function setup(options: RecoveryManagerOptions = {}) {
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const logs = new InMemoryLogRecordExporter();
  const loggerProvider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter: logs })] });
  const reader = new TestReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const hub = new BreakerTelemetry(new CircuitBreakerRegistry(), 'test');
  hub.useTracerProvider(tracerProvider);
  hub.useLoggerProvider(loggerProvider);
  hub.useMeterProvider(meterProvider);
  const manager = new RecoveryManager({ verifyWindowMs: 0, jitter: 0, exploration: 0, ...options });
  manager.start();
  const asked: string[] = [];
  const telemetry = new RecoveryTelemetry(manager, hub, 'test', (name) => {
    asked.push(name);
    return [...evidence, INVALID];
  });
  cleanups.push(
    () => telemetry.close(),
    () => manager.close(),
    () => meterProvider.shutdown(),
  );
  const named = (name: string): ReadableSpan[] => spans.getFinishedSpans().filter((s) => s.name === name);
  const events = (name: string) => logs.getFinishedLogRecords().filter((r) => r.eventName === name);
  const attempts = async () => {
    const { resourceMetrics } = await reader.collect();
    const metric = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === 'selfheal.recovery.attempts');
    return (metric?.dataPoints ?? []).map((p) => ({ ...p.attributes, value: p.value }));
  };
  return { spans, logs, reader, hub, manager, telemetry, asked, named, events, attempts };
}

// No context manager: the recovery's trace must hold together without one (spans and log
// records get their parent context explicitly).
afterEach(async () => {
  for (const c of cleanups) await c();
  cleanups = [];
});

describe('RecoveryTelemetry: one trace per recovery', () => {
  it('makes a root span linked to the evidence with a child per attempt and per verification', async () => {
    const t = setup({ plans: [{ failureType: 'error-rate', primary: 'restart', maxRetries: 1, retryDelayMs: 0, metadata: { runbook: 'https://runbooks.example/svc' } }] });
    let restarts = 0;
    const c = component('svc', {
      restart: async () => {
        if (++restarts === 1) throw new Error(`connect ECONNREFUSED postgres://app:${SECRET}@db:5432/orders?sslmode=require&password=${SECRET}`);
        c.health = HEALTHY;
      },
    });
    t.manager.register(c);

    const outcome = await t.manager.requestRecovery('svc', 'error-rate', FAILED);
    expect(outcome.outcome).toBe('recovered');

    const [root, ...others] = t.named('selfheal.recovery');
    expect(others).toHaveLength(0);
    expect(root!.parentSpanContext).toBeUndefined();
    expect(t.asked).toEqual(['svc']);
    expect(root!.links.map((l) => l.context)).toEqual(evidence); // the invalid context is dropped
    expect(root!.attributes).toMatchObject({
      'selfheal.component.name': 'svc',
      'selfheal.recovery.failure_type': 'error-rate',
      'selfheal.recovery.outcome': 'recovered',
      'selfheal.recovery.strategies': ['restart'],
      'selfheal.recovery.rolled_back': false,
      'selfheal.recovery.attempt_count': 2,
      'selfheal.recovery.trigger': 'request',
      'selfheal.recovery.plan': 'error-rate',
      'selfheal.recovery.metadata.runbook': 'https://runbooks.example/svc',
      'selfheal.health.to': 'failed',
    });
    expect(root!.status.code).toBe(SpanStatusCode.UNSET);

    const traceId = root!.spanContext().traceId;
    const children = [...t.named('selfheal.recovery.attempt'), ...t.named('selfheal.recovery.verify')];
    for (const child of children) {
      expect(child.spanContext().traceId).toBe(traceId);
      expect(child.parentSpanContext?.spanId).toBe(root!.spanContext().spanId);
    }
    const attempts = t.named('selfheal.recovery.attempt').sort((a, b) => Number(a.attributes['selfheal.recovery.attempt']) - Number(b.attributes['selfheal.recovery.attempt']));
    expect(attempts.map((s) => s.attributes)).toEqual([
      expect.objectContaining({ 'selfheal.recovery.strategy': 'restart', 'selfheal.recovery.attempt': 1, 'selfheal.recovery.retry': 0, 'selfheal.recovery.success': false }),
      expect.objectContaining({ 'selfheal.recovery.strategy': 'restart', 'selfheal.recovery.attempt': 2, 'selfheal.recovery.retry': 1, 'selfheal.recovery.success': true }),
    ]);
    // The failed action's message, with the URL's credentials and query taken out.
    expect(attempts[0]!.attributes['selfheal.recovery.error']).toBe('connect ECONNREFUSED postgres://db:5432/orders');
    expect(attempts[0]!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'connect ECONNREFUSED postgres://db:5432/orders' });
    // Only the action that completed was verified.
    const verify = t.named('selfheal.recovery.verify');
    expect(verify.map((s) => s.attributes)).toEqual([
      expect.objectContaining({
        'selfheal.recovery.attempt': 2,
        'selfheal.recovery.verified': true,
        'selfheal.recovery.verify.source': 'check',
        'selfheal.health.to': 'healthy',
      }),
    ]);

    const exported = JSON.stringify([
      t.spans.getFinishedSpans().map((s) => [s.attributes, s.status, s.events]),
      t.logs.getFinishedLogRecords().map((r) => [r.body, r.attributes]),
    ]);
    expect(exported).not.toContain(SECRET);
  });

  it('emits selfheal.recovery.completed in the recovery\'s trace', async () => {
    const t = setup({ plans: [{ failureType: 'error-rate', primary: 'restart' }] });
    const c = component('svc', {
      restart: async () => {
        c.health = HEALTHY;
      },
    });
    t.manager.register(c);
    const outcome = await t.manager.requestRecovery('svc', 'error-rate', FAILED);

    const [root] = t.named('selfheal.recovery');
    const [done, ...more] = t.events('selfheal.recovery.completed');
    expect(more).toHaveLength(0);
    expect(done!.severityText).toBe('INFO');
    expect(done!.attributes).toMatchObject({
      'selfheal.component.name': 'svc',
      'selfheal.recovery.failure_type': 'error-rate',
      'selfheal.recovery.outcome': 'recovered',
      'selfheal.recovery.attempt_count': 1,
      'selfheal.recovery.duration_ms': outcome.durationMs,
      'selfheal.recovery.strategies': ['restart'],
    });
    expect(done!.spanContext?.traceId).toBe(root!.spanContext().traceId);
  });

  it('counts attempts by strategy and outcome, and a new meter provider reports the same totals', async () => {
    const t = setup({ plans: [{ failureType: 'error-rate', primary: 'restart', maxRetries: 1, retryDelayMs: 0 }] });
    let restarts = 0;
    const c = component('svc', {
      restart: async () => {
        if (++restarts === 1) throw new Error('boom');
        c.health = HEALTHY;
      },
    });
    t.manager.register(c);
    expect(await t.attempts()).toEqual([]);
    await t.manager.requestRecovery('svc', 'error-rate', FAILED);

    const expected = [
      { 'selfheal.recovery.strategy': 'restart', 'selfheal.recovery.failure_type': 'error-rate', 'selfheal.outcome': 'success', value: 1 },
      { 'selfheal.recovery.strategy': 'restart', 'selfheal.recovery.failure_type': 'error-rate', 'selfheal.outcome': 'failure', value: 1 },
      { 'selfheal.recovery.strategy': 'restart', 'selfheal.recovery.failure_type': 'error-rate', 'selfheal.outcome': 'rolled-back', value: 0 },
    ];
    expect(await t.attempts()).toEqual(expected);

    const second = new TestReader();
    const provider = new MeterProvider({ readers: [second] });
    t.hub.useMeterProvider(provider);
    const { resourceMetrics } = await second.collect();
    const metric = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === 'selfheal.recovery.attempts');
    expect(metric?.dataPoints.map((p) => ({ ...p.attributes, value: p.value }))).toEqual(expected);
    await provider.shutdown();
  });

  it('marks a rolled-back attempt on its span, the root and the counter', async () => {
    const t = setup({ plans: [{ failureType: 'error-rate', primary: 'reconfigure' }] });
    const c = component('svc', {
      reconfigure: async () => {
        c.health = FAILED; // worse than before: the undo runs
        return async () => {
          c.health = CRITICAL;
        };
      },
    });
    c.health = CRITICAL;
    t.manager.register(c);
    const outcome = await t.manager.requestRecovery('svc', 'error-rate', CRITICAL);
    expect(outcome.outcome).toBe('manual-intervention');

    const [attempt] = t.named('selfheal.recovery.attempt');
    expect(attempt!.attributes).toMatchObject({ 'selfheal.recovery.strategy': 'reconfigure', 'selfheal.recovery.rolled_back': true, 'selfheal.health.to': 'failed' });
    const [verify] = t.named('selfheal.recovery.verify');
    expect(verify!.attributes).toMatchObject({ 'selfheal.recovery.verified': false, 'selfheal.health.from': 'critical', 'selfheal.health.to': 'failed' });
    expect(verify!.status.code).toBe(SpanStatusCode.ERROR);
    expect(t.named('selfheal.recovery')[0]!.attributes['selfheal.recovery.rolled_back']).toBe(true);
    expect(await t.attempts()).toContainEqual(expect.objectContaining({ 'selfheal.recovery.strategy': 'reconfigure', 'selfheal.outcome': 'rolled-back', value: 1 }));
    expect(await t.attempts()).toContainEqual(expect.objectContaining({ 'selfheal.recovery.strategy': 'reconfigure', 'selfheal.outcome': 'failure', value: 0 }));
  });
});

describe('RecoveryTelemetry: manual intervention', () => {
  it('raises a critical selfheal.alert in the recovery\'s trace, and an info one on acknowledgement', async () => {
    const t = setup({ plans: [{ failureType: 'error-rate', primary: 'restart', metadata: { runbook: 'https://runbooks.example/svc' } }] });
    t.manager.register(
      component('svc', {
        restart: async () => {
          throw new Error(`refused by https://admin:${SECRET}@db.internal/health?token=${SECRET}`);
        },
      }),
    );
    const outcome = await t.manager.requestRecovery('svc', 'error-rate', FAILED);
    expect(outcome.outcome).toBe('manual-intervention');

    const [root] = t.named('selfheal.recovery');
    expect(root!.attributes['selfheal.recovery.outcome']).toBe('manual-intervention');
    expect(root!.status.code).toBe(SpanStatusCode.ERROR);

    const [alert, ...more] = t.events('selfheal.alert');
    expect(more).toHaveLength(0);
    expect(alert!.severityText).toBe('CRITICAL');
    expect(alert!.severityNumber).toBe(17);
    expect(alert!.attributes).toMatchObject({
      'selfheal.component.name': 'svc',
      'selfheal.alert.severity': 'critical',
      'selfheal.recovery.failure_type': 'error-rate',
      'selfheal.recovery.attempt_count': 1,
      'selfheal.recovery.metadata.runbook': 'https://runbooks.example/svc',
    });
    expect(alert!.body).toContain('https://db.internal/health');
    expect(alert!.spanContext?.traceId).toBe(root!.spanContext().traceId);
    const [done] = t.events('selfheal.recovery.completed');
    expect(done!.severityText).toBe('WARN');
    expect(JSON.stringify(t.logs.getFinishedLogRecords().map((r) => [r.body, r.attributes]))).not.toContain(SECRET);

    expect(t.manager.acknowledge('svc')).toBe(true);
    const acknowledged = t.events('selfheal.alert')[1];
    expect(acknowledged!.severityText).toBe('INFO');
    expect(acknowledged!.attributes).toMatchObject({ 'selfheal.component.name': 'svc', 'selfheal.alert.severity': 'info' });
  });
});

describe('RecoveryTelemetry: lifecycle', () => {
  it('close() ends the spans of a recovery under way and stops listening', async () => {
    const t = setup({ plans: [{ failureType: 'error-rate', primary: 'restart' }] });
    let started!: () => void;
    const acting = new Promise<void>((resolve) => (started = resolve));
    t.manager.register(
      component('svc', {
        restart: (signal) =>
          new Promise<void>((_, reject) => {
            started();
            signal.addEventListener('abort', () => reject(signal.reason as Error));
          }),
      }),
    );
    const pending = t.manager.requestRecovery('svc', 'error-rate', FAILED);
    await acting;
    expect(t.spans.getFinishedSpans()).toHaveLength(0);

    t.telemetry.close();
    expect(t.named('selfheal.recovery')).toHaveLength(1);
    expect(t.named('selfheal.recovery.attempt')).toHaveLength(1);

    await t.manager.stop();
    expect((await pending).outcome).toBe('cancelled');
    expect(t.spans.getFinishedSpans()).toHaveLength(2);
    expect(t.events('selfheal.recovery.completed')).toHaveLength(0);
  });

  it('a cancelled recovery ends its spans without an error status', async () => {
    const t = setup({ plans: [{ failureType: 'error-rate', primary: 'restart' }] });
    let started!: () => void;
    const acting = new Promise<void>((resolve) => (started = resolve));
    t.manager.register(
      component('svc', {
        restart: (signal) =>
          new Promise<void>((_, reject) => {
            started();
            signal.addEventListener('abort', () => reject(signal.reason as Error));
          }),
      }),
    );
    const pending = t.manager.requestRecovery('svc', 'error-rate', FAILED);
    await acting;
    await t.manager.stop();
    expect((await pending).outcome).toBe('cancelled');

    const [root] = t.named('selfheal.recovery');
    expect(root!.attributes).toMatchObject({ 'selfheal.recovery.outcome': 'cancelled', 'selfheal.recovery.reason': 'stopped' });
    expect(root!.status.code).toBe(SpanStatusCode.UNSET);
    expect(t.named('selfheal.recovery.attempt')[0]!.attributes['selfheal.recovery.success']).toBe(false);
  });
});
