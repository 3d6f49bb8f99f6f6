import { execFile } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OtlpReceiver, type OtlpSpan } from '../support/otlpReceiver.js';

// `npm run demo` is the README's main command: run it (built package, short run) against a real
// OTLP/HTTP receiver and check what a person would see, and what Jaeger would get. The demo runs
// once (about 12 s); every test reads the same run.
const root = path.join(__dirname, '../..');

const CLIENT = 3;
const INTERNAL = 1;
const ERROR = 2;

describe('the demo', () => {
  let receiver: OtlpReceiver;
  let stdout = '';
  let exitCode: number | null = null;
  /** `http://127.0.0.1:port` of the downstream that fails, as the demo prints it. */
  let inventory = '';
  let spans: OtlpSpan[] = [];
  let byId = new Map<string, OtlpSpan>();

  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
    await new Promise<void>((resolve) => {
      const child = execFile(
        process.execPath,
        ['examples/demo.mjs'],
        {
          cwd: root,
          timeout: 60_000,
          env: {
            ...process.env,
            DEMO_SECONDS: '10',
            OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
            OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
            OTEL_TRACES_EXPORTER: 'otlp',
            OTEL_METRICS_EXPORTER: 'otlp',
            OTEL_LOGS_EXPORTER: 'otlp',
          },
        },
        (_err, out) => {
          stdout = out;
          resolve();
        },
      );
      child.on('exit', (code) => (exitCode = code));
    });
    inventory = /inventory at (http:\/\/127\.0\.0\.1:\d+) fails/.exec(stdout)?.[1] ?? '';
    spans = receiver.spans();
    byId = new Map(spans.map((s) => [s.spanId, s]));
  }, 70_000);

  afterAll(() => receiver.close());

  /** The exported span a link points at; fails the test when it is not in the export. */
  const linked = (link: { traceId: string; spanId: string }): OtlpSpan => {
    const target = byId.get(link.spanId);
    expect(target, `linked span ${link.spanId} is in the export`).toBeDefined();
    expect(target!.traceId).toBe(link.traceId);
    return target!;
  };
  /** A failed call to the inventory downstream, as the official instrumentation exported it. */
  const expectFailedInventoryCall = (s: OtlpSpan): void => {
    expect(s.kind).toBe(CLIENT);
    expect(s.status.code).toBe(ERROR);
    expect(String(s.attributes['url.full'])).toMatch(new RegExp(`^${inventory}/`));
  };

  it('prints one line per second, the transitions and a summary, and ends by itself', () => {
    expect(exitCode).toBe(0);
    expect(receiver.rejected).toEqual([]);
    const lines = stdout.split('\n').filter((l) => /^\[\s*\d+s\] requests/.test(l));
    expect(lines).toHaveLength(10);
    // Breaker state / health status of each downstream on every line.
    expect(lines.every((l) => /inventory=(closed|open|half-open)\/(healthy|degraded|critical|failed|unknown)/.test(l))).toBe(true);
    expect(lines.some((l) => /inventory=open\//.test(l) && /fast-failed\s+[1-9]/.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(/inventory=closed\/\w+ pricing=closed\/healthy/);
    expect(stdout).toMatch(/breaker inventory: closed -> open \((failure-rate|health-failed)/);
    expect(stdout).toMatch(/breaker inventory: half-open -> closed \(probes-succeeded/);
    expect(stdout).not.toMatch(/pricing: closed -> open/);
    expect(stdout).not.toMatch(/health  pricing/);
    expect(stdout).toMatch(/Every request settled: true/);
    // The healing: the failure, the action, and the restored state.
    expect(stdout).toMatch(/injected: cache connection lost/);
    expect(stdout).toMatch(/health  cache: healthy -> failed \(cache connection lost\)/);
    expect(stdout).toMatch(/recovery cache: restart \(check-failed: cache connection lost\)/);
    expect(stdout).toMatch(/recovery cache: recovered after restart in \d+ ms/);
    expect(stdout).toMatch(/Cache: connected after 1 automatic reconnect/);
  });

  it('exports one selfheal.recovery trace per healing: a root with attempt and verify children, linked to the failed calls', () => {
    expect(inventory).not.toBe('');
    const roots = spans.filter((s) => s.name === 'selfheal.recovery');
    // The cache (its health check failed) and the inventory pool (its calls failed), each once.
    expect(roots.map((r) => r.attributes['selfheal.component.name']).sort()).toEqual(['cache', inventory].sort());
    for (const r of roots) {
      expect(r.parentSpanId).toBeUndefined();
      expect(r.kind).toBe(INTERNAL);
      expect(r.attributes).toMatchObject({ 'selfheal.recovery.outcome': 'recovered', 'selfheal.recovery.strategies': ['restart'], 'selfheal.recovery.attempt_count': 1 });
      const children = spans.filter((s) => s.parentSpanId === r.spanId);
      expect(children.map((c) => c.name).sort()).toEqual(['selfheal.recovery.attempt', 'selfheal.recovery.verify']);
      for (const c of children) {
        expect(c.traceId).toBe(r.traceId);
        expect(c.attributes['selfheal.component.name']).toBe(r.attributes['selfheal.component.name']);
      }
      expect(children.find((c) => c.name === 'selfheal.recovery.attempt')!.attributes).toMatchObject({ 'selfheal.recovery.strategy': 'restart', 'selfheal.recovery.success': true });
      expect(children.find((c) => c.name === 'selfheal.recovery.verify')!.attributes).toMatchObject({ 'selfheal.recovery.verified': true, 'selfheal.health.to': 'healthy' });
    }
    // A failed health check leaves no call span to point at; failed calls do, and all are exported.
    const cache = roots.find((r) => r.attributes['selfheal.component.name'] === 'cache')!;
    expect(cache.links).toEqual([]);
    const pool = roots.find((r) => r.attributes['selfheal.component.name'] === inventory)!;
    expect(pool.links.length).toBeGreaterThan(0);
    for (const l of pool.links) expectFailedInventoryCall(linked(l));

    // Its log event belongs to the recovery's trace.
    const completed = receiver.logs().filter((l) => l.eventName === 'selfheal.recovery.completed');
    expect(completed).toHaveLength(roots.length);
    for (const r of roots) {
      const log = completed.find((l) => l.attributes['selfheal.component.name'] === r.attributes['selfheal.component.name'])!;
      expect(log).toMatchObject({ traceId: r.traceId, spanId: r.spanId, attributes: { 'selfheal.recovery.outcome': 'recovered' } });
    }
  });

  it('exports each breaker transition as a root span linked to the failed calls, and as an event on the call that caused it', () => {
    const transitions = spans.filter((s) => s.name === 'selfheal.breaker.state_change');
    // One per transition the demo printed; all the inventory's.
    expect(transitions).toHaveLength(stdout.match(/breaker inventory: /g)?.length ?? -1);
    for (const t of transitions) {
      expect(t.parentSpanId).toBeUndefined();
      expect(t.attributes['selfheal.breaker.name']).toBe(inventory);
      for (const l of t.links) expectFailedInventoryCall(linked(l));
    }
    const opened = transitions.find((t) => t.attributes['selfheal.breaker.state.from'] === 'closed' && t.attributes['selfheal.breaker.state.to'] === 'open')!;
    expect(opened.links.length).toBeGreaterThan(0);

    const onCalls = spans.filter((s) => s.events.some((e) => e.name === 'selfheal.breaker.state_change'));
    expect(onCalls.length).toBeGreaterThan(0);
    for (const s of onCalls) {
      expect(s.kind).toBe(CLIENT);
      expect(String(s.attributes['url.full'])).toMatch(new RegExp(`^${inventory}/`));
    }
    expect(onCalls.flatMap((s) => s.events).find((e) => e.name === 'selfheal.breaker.state_change')!.attributes).toMatchObject({
      'selfheal.breaker.name': inventory,
      'selfheal.breaker.state.to': expect.stringMatching(/^(open|half-open|closed)$/),
    });
  });

  it('marks every refused call: a selfheal.breaker.rejected event on a CLIENT span of the inventory, one per fast-failed request', () => {
    const fastFailed = Number(/(\d+) failed fast/.exec(stdout)?.[1]);
    const refused = spans.filter((s) => s.events.some((e) => e.name === 'selfheal.breaker.rejected'));
    expect(fastFailed).toBeGreaterThan(0);
    expect(refused).toHaveLength(fastFailed);
    for (const s of refused) {
      expect(s.kind).toBe(CLIENT);
      expect(s.attributes['error.type']).toBe('CircuitOpenError');
      expect(String(s.attributes['url.full'])).toMatch(new RegExp(`^${inventory}/`));
      expect(s.events.find((e) => e.name === 'selfheal.breaker.rejected')!.attributes).toMatchObject({
        'selfheal.breaker.name': inventory,
        'selfheal.breaker.state': expect.stringMatching(/^(open|half-open)$/),
      });
    }
    // Fetch refusals get a span of ours (undici makes none for a request that never starts).
    expect(refused.some((s) => s.scope === 'otel-self-heal')).toBe(true);
    expect(refused.some((s) => s.scope === '@opentelemetry/instrumentation-http')).toBe(true);
  });

  it('exports the log events by event name, each tied to its component, and the metrics by name', () => {
    const logs = receiver.logs();
    const named = (name: string) => logs.filter((l) => l.eventName === name);
    expect(named('selfheal.breaker.state_change')).toHaveLength(spans.filter((s) => s.name === 'selfheal.breaker.state_change').length);
    expect(named('selfheal.breaker.state_change').every((l) => l.attributes['selfheal.breaker.name'] === inventory)).toBe(true);
    const health = named('selfheal.health.status_change');
    expect(health).toContainEqual(expect.objectContaining({ attributes: expect.objectContaining({ 'selfheal.component.name': 'cache', 'selfheal.health.from': 'healthy', 'selfheal.health.to': 'failed' }) }));
    expect(health).toContainEqual(expect.objectContaining({ attributes: expect.objectContaining({ 'selfheal.component.name': inventory }) }));
    expect(named('selfheal.alert')).toContainEqual(
      expect.objectContaining({ severityText: 'CRITICAL', attributes: expect.objectContaining({ 'selfheal.component.name': 'cache', 'selfheal.health.to': 'failed' }) }),
    );
    expect(logs.every((l) => l.scope !== 'otel-self-heal' || typeof l.eventName === 'string')).toBe(true);

    expect(receiver.metricNames()).toEqual(
      expect.arrayContaining([
        'selfheal.breaker.state',
        'selfheal.breaker.calls',
        'selfheal.component.health',
        'selfheal.recovery.attempts',
        'selfheal.anomaly.score',
        'selfheal.config.version',
      ]),
    );
  });
});
