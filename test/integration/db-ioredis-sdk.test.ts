/**
 * ioredis under a real NodeSDK with withSelfHealing, which adds the official ioredis
 * instrumentation: health names the destination from the official spans exactly as the breaker
 * and the recoverable component are named, and recovery's drain gives a client a fresh
 * connection that works.
 */
import { trace } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isCircuitOpenError } from '../../src/breaker/index.js';
import { getSelfHealing, type SelfHealing } from '../../src/SelfHealing.js';
import { withSelfHealing } from '../../src/withSelfHealing.js';
import { REDIS_BREAKER, closeAll, freshIoredis, key, nameOf, redisClient, settle, startProxy, waitFor } from './db-ioredis-helpers.js';

const exporter = new InMemorySpanExporter();
let sdk: NodeSDK;
let plugin: SelfHealing;
let Impl: typeof Redis;

beforeAll(() => {
  sdk = new NodeSDK(
    withSelfHealing(
      { spanProcessors: [new SimpleSpanProcessor(exporter)], autoDetectResources: false },
      {
        // Judged on 20 calls: the breaker lets enough failing calls through for health to judge them.
        breaker: { ...REDIS_BREAKER, minimumRequests: 20, windowSize: 40, resetTimeout: 60_000 },
        health: { evaluateEveryMs: 50, minCalls: 3 },
        recovery: { actionTimeoutMs: 1_000, verifyWindowMs: 500 },
      },
    ),
  );
  sdk.start();
  plugin = getSelfHealing()!;
  // Loaded after the SDK started, as an application does: both instrumentations patch it.
  Impl = freshIoredis();
});
afterEach(closeAll);
afterAll(async () => {
  await sdk.shutdown();
});

/** Runs `fn` under a parent span (the official instrumentation traces only inside one). */
function inParent<T>(fn: () => Promise<T>): Promise<T> {
  return trace.getTracer('test').startActiveSpan('request', async (span) => {
    try {
      return await fn();
    } finally {
      span.end();
    }
  });
}

describe('ioredis under NodeSDK with withSelfHealing', () => {
  it('health from the official spans names the breaker, a failing server sets off the recovery of that destination, and the client works after', async () => {
    const proxy = await startProxy();
    const name = nameOf(proxy);
    const client = redisClient(proxy, { commandTimeout: 200 }, Impl);
    const k = key('health');
    await inParent(async () => {
      await client.set(k, 'v');
      for (let i = 0; i < 4; i++) await client.get(k);
    });
    const official = exporter.getFinishedSpans().filter((s) => s.instrumentationScope.name === '@opentelemetry/instrumentation-ioredis');
    // The lazy client's connect and handshake are traced too (and the SET, queued until the
    // connection was ready, once more when ioredis resends it: the official instrumentation's way).
    expect(official.filter((s) => s.name === 'get')).toHaveLength(4);
    expect(official.map((s) => s.name)).toEqual(expect.arrayContaining(['connect', 'info', 'set']));
    await waitFor(() => plugin.health.component(name) !== undefined, 5_000, 'health to see the destination');
    expect(plugin.breakers.find(name)?.successes).toBe(5);

    // The server stops answering: official spans end in error, health finds the destination
    // failed and recovery restarts the component of the same name.
    proxy.blackhole();
    for (let round = 0; round < 5 && plugin.recovery.history(name).length === 0; round++) {
      const outcomes = await inParent(() => Promise.all(Array.from({ length: 10 }, () => settle(client.get(k)))));
      expect(outcomes.every((o) => o.error !== undefined)).toBe(true);
    }
    await waitFor(() => plugin.recovery.history(name).length > 0, 8_000, 'a recovery of the destination');
    expect(plugin.recovery.history(name)[0]!.result.action).toBe('restart');
    // While the breaker is open its refusals never reach the official instrumentation, so health
    // does not count them as failures of the destination (that would hold it failed for good).
    plugin.breakers.get(name).forceOpen();
    const refused = await inParent(() => settle(client.get(k)));
    expect(isCircuitOpenError(refused.error)).toBe(true);
    const refusedOfficially = exporter
      .getFinishedSpans()
      .filter((s) => s.instrumentationScope.name === '@opentelemetry/instrumentation-ioredis' && s.events.some((e) => e.attributes?.['exception.type'] === 'ECIRCUITOPEN'));
    expect(refusedOfficially).toEqual([]);
    // Each refusal is a CLIENT span of ours instead, which health skips (error.type CircuitOpenError).
    const refusals = exporter.getFinishedSpans().filter((s) => s.attributes['error.type'] === 'CircuitOpenError');
    expect(refusals.length).toBeGreaterThan(0);
    expect(new Set(refusals.map((s) => `${s.instrumentationScope.name} ${s.name}`))).toEqual(new Set(['otel-self-heal get 0']));

    await proxy.heal();
    plugin.breakers.get(name).reset();
    await waitFor(() => client.status === 'ready', 8_000, 'the client to reconnect');
    expect((await settle(client.get(k))).value).toBe('v');
  });

  it("recovery's drain replaces a connection that lost its way (commands timed out under a blackhole) and the client works again", async () => {
    const proxy = await startProxy();
    const name = nameOf(proxy);
    // No parent span: nothing reaches health, so only this test's request recovers the component.
    const client = redisClient(proxy, { commandTimeout: 200 }, Impl);
    const k = key('drain');
    expect((await settle(client.set(k, 'kept'))).value).toBe('OK');
    proxy.blackhole();
    for (let i = 0; i < 3; i++) expect((await settle(client.get(k))).error?.message).toBe('Command timed out');

    // The server answers again, but the old connection still waits for the lost replies:
    // every command on it times out, although the server is fine.
    await proxy.heal();
    expect((await settle(client.get(k))).error?.message).toBe('Command timed out');
    const accepted = proxy.accepted;

    const outcome = await plugin.recovery.requestRecovery(name, 'connection-lost', { kind: 'failed', reason: 'commands time out' });
    expect(outcome.attempts[0]?.action).toBe('restart');
    expect(outcome.attempts[0]?.success).toBe(true);
    expect(proxy.accepted).toBe(accepted + 1);
    plugin.breakers.get(name).reset();
    expect((await settle(client.get(k))).value).toBe('kept');
    expect((await settle(client.set(k, 'again'))).value).toBe('OK');
    expect((await settle(client.get(k))).value).toBe('again');
  });
});
