import http from 'node:http';
import { InMemorySpanExporter, SimpleSpanProcessor, BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, pastResetTimeout, startDownstream, startPlugin, status } from './downstream.js';

class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

function get(url: string): Promise<number | string> {
  return new Promise((resolve) => {
    http
      .get(url, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

describe('telemetry without the official instrumentations', () => {
  afterEach(cleanup);

  it('creates the CLIENT span of a refused node:http call, since no instrumentation made one', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const plugin = startPlugin();
    for (const i of plugin.instrumentations) i.setTracerProvider(provider);
    const down = await startDownstream(status(503));
    for (let i = 0; i < 4; i++) expect(await get(`${down.url}path?secret=1`)).toBe(503);
    expect(await get(`${down.url}path?secret=1`)).toBe('ECIRCUITOPEN');
    await provider.forceFlush();
    const refused = exporter.getFinishedSpans().filter((s) => s.name === 'GET');
    expect(refused).toHaveLength(1);
    expect(refused[0]!.attributes).toMatchObject({
      'error.type': 'CircuitOpenError',
      'url.full': `${down.origin}/path`,
      'server.port': down.port,
      'selfheal.breaker.name': down.origin,
    });
    expect(refused[0]!.events.map((e) => e.name)).toEqual(['selfheal.breaker.rejected']);
    const transition = exporter.getFinishedSpans().filter((s) => s.name === 'selfheal.breaker.state_change');
    expect(transition.map((s) => s.attributes['selfheal.breaker.state.to'])).toEqual(['open']);
  });

  it('reading the state gauge never moves a breaker; the next call does, with its event', async () => {
    const reader = new TestReader();
    const meterProvider = new MeterProvider({ readers: [reader] });
    const plugin = startPlugin();
    for (const i of plugin.instrumentations) i.setMeterProvider(meterProvider);
    const transitions: string[] = [];
    plugin.breakers.onStateChange((c) => transitions.push(c.to));
    const down = await startDownstream(status(503));
    for (let i = 0; i < 4; i++) await get(down.url);
    await pastResetTimeout();
    const gauge = async () => {
      const { resourceMetrics } = await reader.collect();
      const metric = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === 'selfheal.breaker.state');
      return metric?.dataPoints.map((p) => p.value);
    };
    expect(await gauge()).toEqual([2]);
    expect(transitions).toEqual(['open']);
    down.behave(status(200));
    expect(await get(down.url)).toBe(200);
    expect(transitions).toEqual(['open', 'half-open']);
    expect(await gauge()).toEqual([1]);
    await meterProvider.shutdown();
  });
});
