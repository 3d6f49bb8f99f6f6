/**
 * The breaker next to the official @opentelemetry/instrumentation-ioredis, whichever patches
 * first. Each scenario loads a fresh copy of ioredis (require cache cleared), so the require
 * hooks of the instrumentations alive at that moment patch it, as in an application.
 */
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isOurs } from '../../instrumentations/shared/index.js';
import { isCircuitOpenError } from '../../src/breaker/index.js';
import { ComponentNames } from '../../src/health/componentKey.js';
import type { SelfHealing } from '../../src/SelfHealing.js';
import { cleanup, startPlugin } from './downstream.js';
import { HOLD_OPEN, closeAll, freshIoredis, key, nameOf, redisClient, settle, startProxy } from './db-ioredis-helpers.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('test');
const contextManager = new AsyncLocalStorageContextManager();
let official: IORedisInstrumentation | undefined;

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
});
afterAll(() => {
  context.disable();
});
afterEach(async () => {
  official?.disable();
  official = undefined;
  await cleanup();
  await closeAll();
  exporter.reset();
});

function startOfficial(): IORedisInstrumentation {
  official = new IORedisInstrumentation(); // requireParentSpan: true, the default
  official.setTracerProvider(provider);
  return official;
}

function startOurs(): SelfHealing {
  const plugin = startPlugin({ breaker: HOLD_OPEN });
  for (const i of plugin.instrumentations) i.setTracerProvider(provider);
  return plugin;
}

/** Runs `fn` under a parent span, as a request handler would (the official spans need one). */
function inParent<T>(fn: () => Promise<T>): Promise<T> {
  return tracer.startActiveSpan('parent', async (span) => {
    try {
      return await fn();
    } finally {
      span.end();
    }
  });
}

const spans = (filter: (s: ReadableSpan) => boolean) => exporter.getFinishedSpans().filter(filter);
const officialSpans = () => spans((s) => s.instrumentationScope.name === '@opentelemetry/instrumentation-ioredis');
const refusalSpans = () => spans((s) => s.attributes['error.type'] === 'CircuitOpenError');
const nextTick = () => new Promise<void>((resolve) => process.nextTick(resolve));

/**
 * What every order must give: allowed commands produce the official CLIENT spans, named by
 * health like the breaker; refused commands fail fast without a connection and show as a
 * refusal (our CLIENT span with error.type CircuitOpenError), never as a failed official span.
 */
async function expectCoexistence(plugin: SelfHealing, Impl: typeof Redis): Promise<void> {
  const proxy = await startProxy();
  const client = redisClient(proxy, {}, Impl);
  const k = key('official');
  expect(await inParent(() => client.set(k, 'v'))).toBe('OK');
  const [set] = officialSpans().filter((s) => s.name === 'set');
  expect(set?.kind).toBe(SpanKind.CLIENT);
  expect(set?.attributes['db.system.name']).toBe('redis');
  expect(new ComponentNames().client(set!.attributes)).toBe(nameOf(proxy));
  expect(plugin.breakers.find(nameOf(proxy))?.successes).toBe(1);

  plugin.breakers.get(nameOf(proxy)).forceOpen();
  exporter.reset();
  const lazy = redisClient(proxy, {}, Impl);
  proxy.resetCounters();
  const refused = await inParent(() => settle(Promise.all([client.get(k), lazy.get(k)])));
  expect(isCircuitOpenError(refused.error)).toBe(true);
  expect(proxy.accepted).toBe(0);
  expect(officialSpans().filter((s) => s.status.code === SpanStatusCode.ERROR)).toEqual([]);
  const refusals = refusalSpans();
  expect(refusals.map((s) => s.name)).toEqual(['get 0', 'get 0']);
  expect(refusals[0]!.events.map((e) => e.name)).toContain('selfheal.breaker.rejected');
  expect(new ComponentNames().client(refusals[0]!.attributes)).toBe(nameOf(proxy));
}

describe('ioredis breaker with the official instrumentation', () => {
  it('ours first, official second, ioredis loaded after both (withSelfHealing order): ours ends outermost', async () => {
    const plugin = startOurs();
    startOfficial();
    const Impl = freshIoredis();
    // The official hook on the main module ran after ours on built/Redis.js; ours goes back on top next tick.
    expect(isOurs(Impl.prototype.sendCommand)).toBe(false);
    await nextTick();
    expect(isOurs(Impl.prototype.sendCommand)).toBe(true);
    await expectCoexistence(plugin, Impl);
  });

  it('official first, ours second, ioredis loaded after both', async () => {
    startOfficial();
    const plugin = startOurs();
    const Impl = freshIoredis();
    await nextTick();
    expect(isOurs(Impl.prototype.sendCommand)).toBe(true);
    await expectCoexistence(plugin, Impl);
  });

  it('official patched ioredis before the plugin existed: ours wraps on top when it starts', async () => {
    startOfficial();
    const Impl = freshIoredis();
    expect(isOurs(Impl.prototype.sendCommand)).toBe(false);
    const plugin = startOurs();
    expect(isOurs(Impl.prototype.sendCommand)).toBe(true);
    await expectCoexistence(plugin, Impl);
  });

  it('official re-patched on top of ours: refused commands still fail fast, its span ends, no connection', async () => {
    const plugin = startOurs();
    const o = startOfficial();
    const Impl = freshIoredis();
    await nextTick();
    o.disable();
    o.enable();
    expect(isOurs(Impl.prototype.sendCommand)).toBe(false);
    const proxy = await startProxy();
    plugin.breakers.get(nameOf(proxy)).forceOpen();
    const client = redisClient(proxy, {}, Impl);
    const refused = await inParent(() => settle(client.get('x')));
    expect(isCircuitOpenError(refused.error)).toBe(true);
    expect(proxy.accepted).toBe(0);
    // Its span ended (the rejection waits a tick for its hook), with our error recorded on it.
    const [get] = officialSpans().filter((s) => s.name === 'get');
    expect(get?.status.code).toBe(SpanStatusCode.ERROR);
    expect(get?.events.find((e) => e.name === 'exception')?.attributes?.['exception.type']).toBe('ECIRCUITOPEN');
    expect(refusalSpans()).toHaveLength(1);
  });

  it('with no parent span the official instrumentation records nothing and the breaker still guards', async () => {
    const plugin = startOurs();
    startOfficial();
    const Impl = freshIoredis();
    await nextTick();
    const proxy = await startProxy();
    const client = redisClient(proxy, {}, Impl);
    expect(await client.ping()).toBe('PONG');
    expect(officialSpans()).toEqual([]);
    expect(plugin.breakers.find(nameOf(proxy))?.successes).toBe(1);
    expect(trace.getActiveSpan()).toBeUndefined();
  });
});
