/**
 * Blocking Redis commands (BLPOP, XREAD BLOCK, …) wait by design: a queue worker's long waits on a
 * healthy server must not read as latency, neither to the breaker's slow-call rule nor to health.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isBlocking } from '../../instrumentations/ioredis/IORedisBreakerInstrumentation.js';
import { SelfHealing } from '../../src/SelfHealing.js';
import { FaultProxy } from '../support/faultProxy.js';

describe('ioredis blocking commands', () => {
  let plugin: SelfHealing;
  const clients: Redis[] = [];

  beforeAll(() => {
    plugin = new SelfHealing({
      officialInstrumentations: false,
      // A slow-call rule that 400 ms waits would trip if they counted; health's p95 thresholds low too.
      breaker: { minimumRequests: 2, slowCallDurationThreshold: 200, slowCallRateThreshold: 0.5 },
      health: { minCalls: 2, thresholds: { responseTime: { degraded: 100, critical: 200, failed: 300 } } },
    });
  });

  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await plugin.shutdown();
  });

  it('recognises the blocking commands, XREAD only with BLOCK', () => {
    expect(isBlocking('blpop', ['q', 1])).toBe(true);
    expect(isBlocking('BZPOPMIN', ['z', 5])).toBe(true);
    expect(isBlocking('xread', ['BLOCK', '100', 'STREAMS', 's', '$'])).toBe(true);
    expect(isBlocking('xread', ['COUNT', '1', 'STREAMS', 's', '0'])).toBe(false);
    expect(isBlocking('get', ['k'])).toBe(false);
  });

  it('guards them, but their waiting counts neither as a slow call nor as latency', async () => {
    const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, maxRetriesPerRequest: 0, commandTimeout: 2000 });
    clients.push(redis);
    const key = `selfheal:blocking:${process.pid}`;
    for (let i = 0; i < 6; i++) expect(await redis.blpop(key, 0.4)).toBeNull(); // waits 400 ms, then nil
    const name = 'redis://127.0.0.1:6379/0';
    const breaker = plugin.breakers.get(name);
    expect(breaker.successes).toBeGreaterThanOrEqual(6);
    expect(breaker.state).toBe('closed');
    plugin.health.evaluate();
    expect(plugin.health.component(name)?.status.kind).toBe('healthy');
    // Control: the same waits on a plain command are slow calls, and open the breaker.
    const proxy = await FaultProxy.start({ upstreamPort: 6379 });
    try {
      const slow = new Redis({ host: '127.0.0.1', port: proxy.port, lazyConnect: true, maxRetriesPerRequest: 0, commandTimeout: 2000 });
      clients.push(slow);
      await slow.connect();
      proxy.latency(150); // 300 ms per round trip
      await slow.get(key).catch(() => undefined);
      await slow.get(key).catch(() => undefined);
      expect(plugin.breakers.get(`redis://127.0.0.1:${proxy.port}/0`).state).toBe('open');
    } finally {
      await proxy.close();
    }
  });
});
