/**
 * Health of databases under a real NodeSDK with the official pg, mysql2 and ioredis
 * instrumentations (added by withSelfHealing): health takes guarded database calls from the
 * breaker instrumentations' verdicts, so the application's own errors (which the official spans
 * mark as errors) never make a database unhealthy, while server faults do and start a recovery
 * of the same component (its pool).
 */
import { createRequire } from 'node:module';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { SpanKind } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSelfHealing } from '../../src/SelfHealing.js';
import { withSelfHealing } from '../../src/withSelfHealing.js';
import { FaultProxy } from '../support/faultProxy.js';

const require = createRequire(import.meta.url);
type Pool = { query(sql: string): Promise<unknown>; end(): Promise<void>; on(e: string, f: () => void): void };

async function outcome(p: Promise<unknown>): Promise<'ok' | string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return String((err as { code?: string }).code ?? (err as Error).message);
  }
}

async function until(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('database health from the breaker instrumentations', () => {
  const exporter = new InMemorySpanExporter();
  let sdk: NodeSDK;
  const proxies: FaultProxy[] = [];
  let pgPool: Pool;
  let mysqlPool: { query(sql: string): Promise<unknown>; end(): Promise<void> };
  let redis: { get(k: string): Promise<unknown>; hset(k: string, f: string, v: string): Promise<unknown>; incr(k: string): Promise<unknown>; disconnect(): void; on(e: string, f: () => void): void };
  let pgName: string;
  let mysqlName: string;
  let redisName: string;

  beforeAll(async () => {
    for (const port of [5432, 3306, 6379]) proxies.push(await FaultProxy.start({ upstreamPort: port }));
    sdk = new NodeSDK(
      withSelfHealing(
        { spanProcessors: [new SimpleSpanProcessor(exporter)], autoDetectResources: false },
        // The breaker trips late here: health, judging the same verdicts, finds the database failed first.
        { breaker: { minimumRequests: 20, failureThreshold: 0.95, resetTimeout: 60_000, windowSize: 20 }, health: { anomalies: false } },
      ),
    );
    sdk.start();
    const pg = require('pg');
    const mysql = require('mysql2/promise');
    const { Redis } = require('ioredis');
    const [pgProxy, myProxy, redisProxy] = proxies as [FaultProxy, FaultProxy, FaultProxy];
    pgPool = new pg.Pool({ host: '127.0.0.1', port: pgProxy.port, database: 'test', user: 'postgres', connectionTimeoutMillis: 1000, query_timeout: 1000, max: 2 });
    pgPool.on('error', () => undefined);
    mysqlPool = mysql.createPool({ host: '127.0.0.1', port: myProxy.port, user: 'root', database: 'test', connectTimeout: 1000, connectionLimit: 2 });
    redis = new Redis({ host: '127.0.0.1', port: redisProxy.port, lazyConnect: true, maxRetriesPerRequest: 0, commandTimeout: 1000, retryStrategy: () => 50 });
    redis.on('error', () => undefined);
    pgName = `postgresql://127.0.0.1:${pgProxy.port}/test`;
    mysqlName = `mysql://127.0.0.1:${myProxy.port}/test`;
    redisName = `redis://127.0.0.1:${redisProxy.port}/0`;
  });

  afterAll(async () => {
    await pgPool?.end().catch(() => undefined);
    await mysqlPool?.end().catch(() => undefined);
    redis?.disconnect();
    await sdk?.shutdown();
    await Promise.all(proxies.map((p) => p.close()));
  });

  it('keeps every database healthy and every breaker closed under the application\'s own errors', async () => {
    const plugin = getSelfHealing()!;
    for (let i = 0; i < 30; i++) {
      expect(await outcome(pgPool.query('SELEC 1'))).toBe('42601'); // syntax error
      expect(await outcome(mysqlPool.query('SELEC 1'))).toBe('ER_PARSE_ERROR');
      await redis.hset('selfheal:db-health:hash', 'f', 'v');
      expect(await outcome(redis.incr('selfheal:db-health:hash'))).toMatch(/WRONGTYPE/);
    }
    // The official instrumentations did mark those calls as errors: the spans alone would have failed them.
    const officialErrors = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT && s.status.code === 2 && s.instrumentationScope.name.includes('instrumentation-'));
    expect(officialErrors.length).toBeGreaterThanOrEqual(60);
    plugin.health.evaluate();
    for (const name of [pgName, mysqlName, redisName]) {
      expect(plugin.health.component(name)?.status.kind, name).toBe('healthy');
      const b = plugin.breakers.get(name);
      expect(b.state, name).toBe('closed');
      expect(b.failures, name).toBe(0);
    }
  });

  it('fails a database whose server goes away, and recovers its pool under the same name', async () => {
    const plugin = getSelfHealing()!;
    const started: string[] = [];
    const stop = plugin.recovery.on('recovery-started', (e) => started.push(e.component));
    try {
      const pgProxy = proxies[0]!;
      pgProxy.stopUpstream();
      // Steady traffic while the server is away: health judges from the calls' verdicts.
      let traffic = true;
      const load = (async () => {
        while (traffic) {
          await outcome(pgPool.query('SELECT 1'));
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      await until(() => {
        plugin.health.evaluate();
        return ['critical', 'failed'].includes(plugin.health.component(pgName)?.status.kind ?? '');
      }).finally(() => (traffic = false));
      await load;
      await until(() => started.includes(pgName));
      expect(started).not.toContain(mysqlName);
      expect(plugin.health.component(mysqlName)?.status.kind).toBe('healthy');
      pgProxy.startUpstream();
    } finally {
      stop();
    }
  });
});
