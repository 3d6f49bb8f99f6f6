import { NodeSDK } from '@opentelemetry/sdk-node';
import { InMemorySpanExporter, SimpleSpanProcessor, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import { InMemoryLogRecordExporter, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSelfHealing } from '../../src/SelfHealing.js';
import { withSelfHealing } from '../../src/withSelfHealing.js';
import { sleep, startDownstream, status, type Downstream } from './downstream.js';

// A real NodeSDK with a 1% ratio sampler: health must still see every call, while exporters get
// about 1% of the spans. Calls go through global fetch and the official undici instrumentation.
describe('health from spans under a 1% sampler, driving the breaker', () => {
  const spans = new InMemorySpanExporter();
  const logRecords = new InMemoryLogRecordExporter();
  let sdk: NodeSDK;
  let down: Downstream;

  beforeAll(async () => {
    down = await startDownstream(status(200));
    sdk = new NodeSDK(
      withSelfHealing(
        {
          sampler: new TraceIdRatioBasedSampler(0.01),
          spanProcessors: [new SimpleSpanProcessor(spans)],
          logRecordProcessors: [new SimpleLogRecordProcessor({ exporter: logRecords })],
          instrumentations: [new UndiciInstrumentation()],
          autoDetectResources: false,
        },
        {
          officialInstrumentations: false,
          // The breaker alone would not open on these numbers: only health can open it.
          breaker: { minimumRequests: 1000, windowSize: 1000 },
          health: { evaluateEveryMs: 50 },
          // This test is about health driving the breaker; recovery would renew the pool and let calls through.
          recovery: { enabled: false },
        },
      ),
    );
    sdk.start();
  });

  afterAll(async () => {
    await sdk.shutdown();
    await down.close();
  });

  it('sees every call, marks the failing downstream failed, opens its breaker, and alerts', async () => {
    const plugin = getSelfHealing()!;
    for (let i = 0; i < 50; i++) await fetch(down.url).then((r) => r.arrayBuffer());
    await sleep(150);
    expect(plugin.health.component(down.origin)?.status.kind).toBe('healthy');

    down.behave(status(503));
    let sent = 0;
    let refused = 0;
    for (let i = 0; i < 150; i++) {
      await fetch(down.url).then(
        async (r) => {
          sent++;
          await r.arrayBuffer();
        },
        () => refused++,
      );
      await sleep(2);
    }
    await sleep(200);
    const component = plugin.health.component(down.origin)!;
    expect(component.status.kind).toBe('failed');
    // Health opened the breaker while the failing calls came in (the breaker alone needs 1000 calls).
    expect(refused).toBeGreaterThan(0);
    const breaker = plugin.breakers.find(down.origin)!;
    expect(breaker.peekState()).toBe('open');
    expect(breaker.failures).toBe(sent);
    // Every call that was sent is in the component's window; refused ones are not.
    expect(Math.round(component.metrics.throughput! * 10)).toBe(50 + sent);

    // Exported: about 1% of the 200 CLIENT spans, nowhere near all of them.
    const exportedClientSpans = spans.getFinishedSpans().filter((s) => s.kind === 2).length;
    expect(exportedClientSpans).toBeLessThan(20);

    // The refused calls that follow are not failures of the downstream and do not count.
    const before = plugin.health.component(down.origin)!.metrics.throughput;
    for (let i = 0; i < 20; i++) await fetch(down.url).catch(() => undefined);
    await sleep(100);
    expect(plugin.health.component(down.origin)!.metrics.throughput).toBe(before);
    expect(breaker.rejections).toBe(refused + 20);

    // The SDK's own client-duration histogram reaches the metrics collector too.
    expect(await plugin.sdkMetrics!.poll()).toBeGreaterThan(0);
    const durations = plugin.metrics.requestAggregation('http.client.request.duration', 60_000);
    expect(durations?.count).toBe(50 + sent);

    const events = logRecords.getFinishedLogRecords().map((r) => r.eventName);
    expect(events).toEqual(expect.arrayContaining(['selfheal.health.status_change', 'selfheal.alert', 'selfheal.breaker.state_change']));
    // The error rate climbs call by call, so the status may pass through degraded on its way.
    const changes = logRecords.getFinishedLogRecords().filter((r) => r.eventName === 'selfheal.health.status_change');
    expect(changes[0]!.attributes).toMatchObject({ 'selfheal.component.name': down.origin, 'selfheal.health.from': 'healthy' });
    expect(changes.at(-1)!.attributes).toMatchObject({ 'selfheal.component.name': down.origin, 'selfheal.health.to': 'failed' });
    const breakerChange = logRecords.getFinishedLogRecords().find((r) => r.eventName === 'selfheal.breaker.state_change')!;
    expect(breakerChange.attributes).toMatchObject({ 'selfheal.breaker.reason': 'health-failed' });
  });
});
