/** A recovery's drain never reopens a Redis client its owner closed while the drain waited. */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { drainRedis } from '../../instrumentations/ioredis/drain.js';
import { FaultProxy } from '../support/faultProxy.js';

describe('drainRedis and an owner that closes the client meanwhile', () => {
  const proxies: FaultProxy[] = [];
  afterAll(async () => Promise.all(proxies.map((p) => p.close())));

  for (const close of ['disconnect', 'quit'] as const) {
    it(`leaves it closed after ${close}()`, async () => {
      const proxy = await FaultProxy.start({ upstreamPort: 6379 });
      proxies.push(proxy);
      const redis = new Redis({ host: '127.0.0.1', port: proxy.port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 50 });
      redis.on('error', () => undefined);
      await redis.connect();
      proxy.stopUpstream(); // the drain cannot get a fresh connection: it waits
      const drained = drainRedis(redis, new AbortController().signal)!;
      expect(drained).toBeInstanceOf(Promise);
      await new Promise((r) => setTimeout(r, 150));
      if (close === 'disconnect') redis.disconnect();
      else void redis.quit().catch(() => undefined);
      await expect(drained).rejects.toThrow(/closed by its owner/);
      const accepted = proxy.accepted;
      proxy.startUpstream();
      await new Promise((r) => setTimeout(r, 300));
      // Closed as ioredis leaves it (its status may still read 'reconnecting'): never connected again.
      expect(redis.status).not.toBe('ready');
      expect(proxy.accepted).toBe(accepted);
      expect(Object.hasOwn(redis, 'disconnect')).toBe(false); // the watch is undone
    });
  }
});
