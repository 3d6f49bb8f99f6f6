import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { context } from '@opentelemetry/api';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { CircuitBreakerRegistry } from '../../src/breaker/index.js';
import { AdaptiveConfigManager } from '../../src/config/adaptive/index.js';
import { BreakerTelemetry, ConfigTelemetry } from '../../src/telemetry/index.js';

class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

// Values that must never leave the process through telemetry, secret or not.
const OLD_SECRET = 'initial-api-key-9f8e7d';
const NEW_SECRET = 'SUPER-SECRET-TOKEN-4c3b2a';
const OLD_MODE = 'blue-green-mode-value';
const NEW_MODE = 'canary-mode-value';
const VALUES = [OLD_SECRET, NEW_SECRET, OLD_MODE, NEW_MODE];

let cleanups: Array<() => unknown> = [];

function setup() {
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
  const config = new AdaptiveConfigManager({
    initial: { apiKey: OLD_SECRET, mode: OLD_MODE, timeoutMs: 1000 },
    constraints: {
      apiKey: { schema: z.string().min(8), sensitive: true },
      mode: z.string(),
      timeoutMs: z.number().int().min(1),
    },
  });
  const telemetry = new ConfigTelemetry(config, hub, 'test');
  cleanups.push(
    () => telemetry.close(),
    () => config.stop(),
    () => meterProvider.shutdown(),
  );
  const applies = () => spans.getFinishedSpans().filter((s) => s.name === 'selfheal.config.apply');
  const changes = () => logs.getFinishedLogRecords().filter((r) => r.eventName === 'selfheal.config.changed');
  const version = async () => {
    const { resourceMetrics } = await reader.collect();
    const metric = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === 'selfheal.config.version');
    return metric?.dataPoints.map((p) => p.value);
  };
  /** Everything a backend would store of the spans and log records, timestamps aside. */
  const exported = () =>
    JSON.stringify([
      spans.getFinishedSpans().map((s) => [s.name, s.attributes, s.status, s.events, s.links.map((l) => l.attributes)]),
      logs.getFinishedLogRecords().map((r) => [r.eventName, r.severityText, r.body, r.attributes]),
    ]);
  return { spans, logs, tracerProvider, config, telemetry, applies, changes, version, exported };
}

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
});
afterAll(() => {
  context.disable();
});
afterEach(async () => {
  for (const c of cleanups) await c();
  cleanups = [];
  vi.useRealTimers();
});

describe('ConfigTelemetry', () => {
  it('reports a change with versions and changed key names, never a value (sensitive or not)', () => {
    const t = setup();
    t.config.applyChange([
      { kind: 'update', key: 'apiKey', value: NEW_SECRET },
      { kind: 'update', key: 'mode', value: NEW_MODE },
    ]);

    const [span, ...moreSpans] = t.applies();
    expect(moreSpans).toHaveLength(0);
    const expected = {
      'selfheal.config.version.from': 1,
      'selfheal.config.version.to': 2,
      'selfheal.config.source': 'dynamic',
      'selfheal.config.cause': 'batch',
      'selfheal.config.change_type': 'applied',
    };
    expect(span!.attributes).toMatchObject(expected);
    expect([...(span!.attributes['selfheal.config.changed_keys'] as string[])].sort()).toEqual(['apiKey', 'mode']);
    expect(span!.attributes['selfheal.config.rolled_back']).toBeUndefined();

    const [event, ...moreEvents] = t.changes();
    expect(moreEvents).toHaveLength(0);
    expect(event!.severityText).toBe('INFO');
    expect(event!.attributes).toEqual(span!.attributes);
    expect(event!.spanContext?.spanId).toBe(span!.spanContext().spanId);
    expect(event!.body).toContain('apiKey');

    const all = t.exported();
    for (const value of VALUES) expect(all).not.toContain(value);
  });

  it('reports the version in force on the selfheal.config.version gauge', async () => {
    const t = setup();
    expect(await t.version()).toEqual([1]);
    t.config.applyChange({ kind: 'update', key: 'timeoutMs', value: 2000 });
    t.config.applyChange({ kind: 'update', key: 'mode', value: NEW_MODE });
    expect(await t.version()).toEqual([3]);
    t.config.rollback();
    expect(await t.version()).toEqual([4]);
  });

  it('marks a rollback, with its reason and a link to the change it undoes', () => {
    const t = setup();
    t.config.applyChange({ kind: 'update', key: 'apiKey', value: NEW_SECRET });
    t.config.rollback(undefined, 'error rate rose after the change');

    const [applied, rolledBack] = t.applies();
    expect(rolledBack!.attributes).toMatchObject({
      'selfheal.config.version.from': 2,
      'selfheal.config.version.to': 3,
      'selfheal.config.changed_keys': ['apiKey'],
      'selfheal.config.cause': 'rollback',
      'selfheal.config.change_type': 'rolled-back',
      'selfheal.config.rolled_back': true,
      'selfheal.config.reason': 'error rate rose after the change',
    });
    expect(rolledBack!.links.map((l) => l.context.spanId)).toEqual([applied!.spanContext().spanId]);
    const [, event] = t.changes();
    expect(event!.severityText).toBe('WARN');
    expect(event!.attributes).toMatchObject({ 'selfheal.config.rolled_back': true, 'selfheal.config.reason': 'error rate rose after the change' });
    for (const value of VALUES) expect(t.exported()).not.toContain(value);
  });

  it('reports the automatic rollback of a change that made health worse', async () => {
    vi.useFakeTimers();
    const t = setup();
    let score = 1;
    t.config.applyChange({ kind: 'update', key: 'mode', value: NEW_MODE }, { verify: { windowMs: 1000, healthScore: () => score } });
    score = 0.2;
    await vi.advanceTimersByTimeAsync(1000);

    const rolledBack = t.applies().find((s) => s.attributes['selfheal.config.rolled_back'] === true);
    expect(rolledBack?.attributes).toMatchObject({ 'selfheal.config.version.from': 2, 'selfheal.config.version.to': 3, 'selfheal.config.changed_keys': ['mode'] });
    expect(String(rolledBack?.attributes['selfheal.config.reason'])).toContain('health score fell');
    for (const value of VALUES) expect(t.exported()).not.toContain(value);
  });

  it('makes the apply span a child of the span that applied the change', () => {
    const t = setup();
    const tracer = t.tracerProvider.getTracer('optimizer');
    tracer.startActiveSpan('generation', (generation) => {
      t.config.applyChange({ kind: 'update', key: 'timeoutMs', value: 2000 });
      generation.end();
    });
    const generation = t.spans.getFinishedSpans().find((s) => s.name === 'generation')!;
    const [apply] = t.applies();
    expect(apply!.parentSpanContext?.spanId).toBe(generation.spanContext().spanId);
  });

  it('stops reporting changes after close()', () => {
    const t = setup();
    t.telemetry.close();
    t.config.applyChange({ kind: 'update', key: 'timeoutMs', value: 2000 });
    expect(t.applies()).toHaveLength(0);
    expect(t.changes()).toHaveLength(0);
  });
});
