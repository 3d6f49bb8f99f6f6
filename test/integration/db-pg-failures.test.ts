import { InMemorySpanExporter, SimpleSpanProcessor, BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FaultProxy } from '../support/faultProxy.js';
import { cleanup, freePort, startPlugin } from './downstream.js';
import { PG_BREAKER, breakerName, loadPg, pgOptions, settle, startProxy, type PgClient } from './db-pg-support.js';

const pg = loadPg();
const ROLE = `selfheal_limit_${process.pid}`;
// The admin connection goes straight to the server; ignored, so it is never refused.
const DIRECT = 'postgresql://127.0.0.1:5432/test';
let admin: PgClient;
let p: FaultProxy;

const ends: PgClient[] = [];
function client(extra: Record<string, unknown> = {}): PgClient {
  const c = new pg.Client(pgOptions(p, extra));
  c.on('error', () => undefined);
  ends.push(c);
  return c;
}
const start = (options: Parameters<typeof startPlugin>[0] = {}) =>
  startPlugin({ ...options, breaker: { ...PG_BREAKER, minimumRequests: 6, ...options.breaker }, db: { ignore: [DIRECT], ...options.db } });

beforeAll(async () => {
  p = await startProxy();
  admin = new pg.Client({ host: '127.0.0.1', port: 5432, database: 'test', user: 'postgres' });
  await admin.connect();
  await admin.query(`DROP ROLE IF EXISTS ${ROLE}`);
  await admin.query(`CREATE ROLE ${ROLE} LOGIN CONNECTION LIMIT 0`);
});
afterEach(async () => {
  await cleanup();
  await Promise.all(ends.splice(0).map((c) => c.end().catch(() => undefined)));
});
afterAll(async () => {
  await admin.query(`DROP ROLE IF EXISTS ${ROLE}`).catch(() => undefined);
  await admin.end();
  await p.close();
});

describe('pg breaker: the server failing counts', () => {
  it('counts an admin shutdown of the connection (57P01)', async () => {
    const plugin = start();
    const c = client();
    await c.connect();
    const pid = ((await c.query('SELECT pg_backend_pid() AS pid')) as { rows: Array<{ pid: number }> }).rows[0]!.pid;
    const sleeping = settle(c.query('SELECT pg_sleep(10)'));
    // Terminate once the sleep is running on the server.
    for (let i = 0; i < 100; i++) {
      const { rows } = (await admin.query('SELECT pg_terminate_backend($1) AS t FROM pg_stat_activity WHERE pid = $1 AND query LIKE $2', [pid, 'SELECT pg_sleep%'])) as { rows: unknown[] };
      if (rows.length) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const outcome = await sleeping;
    expect(!outcome.ok && outcome.error.code).toBe('57P01');
    expect(plugin.breakers.get(breakerName(p)).failures).toBe(1);
    expect(plugin.breakers.find(DIRECT)).toBeUndefined();
  });

  it('counts too many connections (53300) and a statement timeout (57014)', async () => {
    const plugin = start();
    const limited = await settle(client({ user: ROLE }).connect());
    expect(!limited.ok && limited.error.code).toBe('53300');
    const c = client({ statement_timeout: 50 });
    await c.connect();
    const slow = await settle(c.query('SELECT pg_sleep(2)'));
    expect(!slow.ok && [slow.error.code, slow.error.message]).toEqual(['57014', 'canceling statement due to statement timeout']);
    const breaker = plugin.breakers.get(breakerName(p));
    expect(breaker.failures).toBe(2);
    expect(breaker.successes).toBe(1); // the connect of the statement-timeout client
  });
});

describe('pg breaker: bad input', () => {
  it('counts an unreachable host, by name or by port, under its own breaker', async () => {
    const plugin = start();
    const port = await freePort();
    const refused = await settle(new pg.Client({ host: '127.0.0.1', port, database: 'test', user: 'postgres', connectionTimeoutMillis: 2_000 }).connect());
    expect(!refused.ok && refused.error.code).toBe('ECONNREFUSED');
    const unknown = await settle(new pg.Client({ host: 'no-such-host.invalid', database: 'test', user: 'postgres', connectionTimeoutMillis: 2_000 }).connect());
    expect(!unknown.ok && unknown.error.code).toMatch(/^(ENOTFOUND|EAI_AGAIN)$/);
    expect(plugin.breakers.get(`postgresql://127.0.0.1:${port}/test`).failures).toBe(1);
    expect(plugin.breakers.get('postgresql://no-such-host.invalid:5432/test').failures).toBe(1);
  });

  it('leaves a malformed connection string to pg’s own error, guarding nothing for it', async () => {
    const plugin = start();
    const bad = 'postgres://user:pw@host:notaport/db';
    expect(() => new pg.Client({ connectionString: bad })).toThrow('Invalid URL');
    const pool = new pg.Pool({ connectionString: bad });
    expect(() => pool.query('SELECT 1')).toThrow('Invalid URL'); // as pg-pool does without the plugin
    expect(plugin.breakers.list().map((b) => b.name)).toEqual([]);
    // Other clients are still guarded.
    const c = client();
    await c.connect();
    expect(plugin.breakers.get(breakerName(p)).successes).toBe(1);
  });

  it('keeps credentials out of breaker names and of the span of a refused call', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const plugin = start();
    for (const i of plugin.instrumentations) i.setTracerProvider(provider);
    const url = `postgres://postgres:s3cr3t-pw@127.0.0.1:${p.port}/test`;
    const pool = new pg.Pool({ connectionString: url });
    pool.on('error', () => undefined);
    expect((await settle(pool.query('SELECT 1'))).ok).toBe(true);
    expect(plugin.breakers.list().map((b) => b.name)).toEqual([breakerName(p)]);
    plugin.breakers.get(breakerName(p)).forceOpen();
    const refused = await settle(pool.query('select * from t'));
    expect(!refused.ok && refused.error.code).toBe('ECIRCUITOPEN');
    const c = client();
    expect(!(await settle(c.query('  Update t SET x = 1'))).ok).toBe(true);
    await provider.forceFlush();
    const spans = exporter.getFinishedSpans().filter((s) => s.attributes['error.type'] === 'CircuitOpenError');
    expect(spans.map((s) => [s.name, s.kind, s.attributes['db.operation.name']])).toEqual([
      ['connect test', 2, 'connect'], // pool.query is refused at the pool's connect: no client is made
      ['UPDATE test', 2, 'UPDATE'],
    ]);
    expect(spans[0]!.attributes).toMatchObject({
      'db.system.name': 'postgresql',
      'db.namespace': 'test',
      'server.address': '127.0.0.1',
      'server.port': p.port,
      'selfheal.breaker.name': breakerName(p),
    });
    expect(JSON.stringify(exporter.getFinishedSpans().map((s) => [s.name, s.attributes, s.events]))).not.toContain('s3cr3t');
    await pool.end();
  });
});
