/**
 * Recovery confirms a database restart with a trivial query on a tracked client (`SELECT 1`,
 * `PING`) that goes around the breakers: it reaches a server whose breaker is open, counts
 * nothing, and fails when the server is gone.
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DbPoolComponent } from '../../src/recovery/index.js';
import { SelfHealing } from '../../src/SelfHealing.js';
import { FaultProxy } from '../support/faultProxy.js';

const require = createRequire(import.meta.url);

describe('database pool checks outside the breakers', () => {
  let plugin: SelfHealing;
  const proxies: Record<string, FaultProxy> = {};
  const closers: Array<() => unknown> = [];

  beforeAll(async () => {
    plugin = new SelfHealing({ officialInstrumentations: false, health: { enabled: false } });
    for (const [k, port] of [['pg', 5432], ['mysql', 3306], ['redis', 6379]] as const) proxies[k] = await FaultProxy.start({ upstreamPort: port });
  });

  afterAll(async () => {
    for (const c of closers) await c();
    await plugin.shutdown();
    for (const p of Object.values(proxies)) await p.close();
  });

  const clients = {
    pg: async (port: number) => {
      const pg = require('pg');
      const pool = new pg.Pool({ host: '127.0.0.1', port, database: 'test', user: 'postgres', connectionTimeoutMillis: 1000 });
      pool.on('error', () => undefined);
      closers.push(() => pool.end().catch(() => undefined));
      await pool.query('SELECT 1');
      return `postgresql://127.0.0.1:${port}/test`;
    },
    mysql: async (port: number) => {
      const mysql = require('mysql2/promise');
      const pool = mysql.createPool({ host: '127.0.0.1', port, user: 'root', database: 'test', connectTimeout: 1000 });
      closers.push(() => pool.end().catch(() => undefined));
      await pool.query('SELECT 1');
      return `mysql://127.0.0.1:${port}/test`;
    },
    redis: async (port: number) => {
      const { Redis } = require('ioredis');
      const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => 50 });
      redis.on('error', () => undefined);
      closers.push(() => redis.disconnect());
      await redis.connect();
      await redis.get('k');
      return `redis://127.0.0.1:${port}/0`;
    },
  };

  // mysql2 pools have no check yet: their restarts are verified through health.
  it('mysql: no check, so recovery verifies through health', async () => {
    const name = await clients.mysql(proxies.mysql!.port);
    const component = plugin.recovery.component(name) as DbPoolComponent | undefined;
    expect(component).toBeInstanceOf(DbPoolComponent);
    expect(component!.checkHealth).toBeUndefined();
  });

  for (const kind of ['pg', 'redis'] as const) {
    it(`${kind}: reaches the server past an open breaker without counting, and fails when it is gone`, async () => {
      const proxy = proxies[kind]!;
      const name = await clients[kind](proxy.port);
      const component = plugin.recovery.component(name) as DbPoolComponent | undefined;
      expect(component, `a recoverable component ${name}`).toBeInstanceOf(DbPoolComponent);
      expect(typeof component!.checkHealth).toBe('function');
      const breaker = plugin.breakers.get(name);
      breaker.forceOpen();
      const counted = breaker.successes + breaker.failures + breaker.rejections;
      const signal = () => AbortSignal.timeout(3000);
      expect(await component!.checkHealth!(signal())).toEqual({ kind: 'healthy' });
      expect(breaker.successes + breaker.failures + breaker.rejections).toBe(counted);
      expect(breaker.state).toBe('open');
      proxy.stopUpstream();
      expect((await component!.checkHealth!(signal())).kind).toBe('failed');
      proxy.startUpstream();
      breaker.reset();
    });
  }
});
