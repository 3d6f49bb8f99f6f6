import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FaultProxy } from '../support/faultProxy.js';
import { cleanup, sleep, startPlugin } from './downstream.js';
import { PG_BREAKER, breakerName, loadPg, pgOptions, settle, startProxy, type PgClient, type PgPool } from './db-pg-support.js';

const pg = loadPg();
const DIRECT = 'postgresql://127.0.0.1:5432/test';
const FAILED = { kind: 'failed', reason: 'test' } as const;
let admin: PgClient;
const proxies: FaultProxy[] = [];
const pools: PgPool[] = [];

async function setup(): Promise<{ plugin: ReturnType<typeof startPlugin>; proxy: FaultProxy; pool: PgPool; name: string }> {
  const plugin = startPlugin({ breaker: PG_BREAKER, db: { ignore: [DIRECT] } });
  // A restart is verified by health; nothing feeds health here, so a short window and no retry.
  plugin.recovery.addPlan({ failureType: 'pg-test', primary: 'restart', fallbacks: [], maxRetries: 0, verifyWindowMs: 100 });
  const proxy = await startProxy();
  proxies.push(proxy);
  const pool = new pg.Pool(pgOptions(proxy));
  pool.on('error', () => undefined); // pg-pool reports a dropped idle client here
  pools.push(pool);
  return { plugin, proxy, pool, name: breakerName(proxy) };
}

/** Backend process ids alive on the server now. */
async function livePids(): Promise<number[]> {
  const { rows } = (await admin.query('SELECT pid FROM pg_stat_activity')) as { rows: Array<{ pid: number }> };
  return rows.map((r) => r.pid);
}
const pidOf = (c: PgClient) => (c as unknown as { processID: number }).processID;

beforeAll(async () => {
  admin = new pg.Client({ host: '127.0.0.1', port: 5432, database: 'test', user: 'postgres' });
  await admin.connect();
});
afterEach(async () => {
  await cleanup();
  await Promise.all(pools.splice(0).map((p) => p.end().catch(() => undefined)));
});
afterAll(async () => {
  await admin.end();
  await Promise.all(proxies.map((p) => p.close()));
});

describe('pg pools as recoverable components', () => {
  it('a restart ends the idle clients now and retires the busy one at release; new calls get fresh connections', async () => {
    const { plugin, proxy, pool, name } = await setup();
    const busy = (await pool.connect())!;
    const idle = (await pool.connect())!;
    const [busyPid, idlePid] = [pidOf(busy), pidOf(idle)];
    idle.release();
    expect(pool.idleCount).toBe(1);

    const outcome = await plugin.recovery.requestRecovery(name, 'pg-test', FAILED);
    expect(outcome.attempts.map((a) => a.action)).toEqual(['restart']);
    expect(pool.idleCount).toBe(0);
    await expect.poll(livePids, { timeout: 5_000 }).not.toContain(idlePid);

    // The busy client was not cut off under its user: it works, and is closed when released.
    expect(await busy.query('SELECT 1 AS one')).toMatchObject({ rows: [{ one: 1 }] });
    busy.release();
    expect(pool.totalCount).toBe(0);
    await expect.poll(livePids, { timeout: 5_000 }).not.toContain(busyPid);

    const accepted = proxy.accepted;
    const { rows } = (await pool.query('SELECT pg_backend_pid() AS pid')) as { rows: Array<{ pid: number }> };
    expect([busyPid, idlePid]).not.toContain(rows[0]!.pid);
    expect(proxy.accepted).toBe(accepted + 1);
  });

  it('after a server restart the breaker opens; recovery and the first probe bring the same pool back', async () => {
    const { plugin, proxy, pool, name } = await setup();
    await Promise.all([pool.query('SELECT 1'), pool.query('SELECT 2')]);
    expect(pool.idleCount).toBe(2);
    const breaker = plugin.breakers.get(name);

    proxy.stopUpstream();
    for (let i = 0; i < 6 && breaker.state === 'closed'; i++) expect((await settle(pool.query('SELECT 1'))).ok).toBe(false);
    expect(breaker.state).toBe('open');
    proxy.startUpstream();

    const outcome = await plugin.recovery.requestRecovery(name, 'pg-test', FAILED);
    expect(outcome.attempts.map((a) => a.action)).toEqual(['restart']);
    expect(pool.totalCount).toBe(0);
    await sleep(PG_BREAKER.resetTimeout! + 100);
    expect(await settle(pool.query('SELECT 9 AS n'))).toMatchObject({ ok: true, value: { rows: [{ n: 9 }] } });
    expect(breaker.state).toBe('closed');
  });

  it('a drain aborted by the recovery timeout still leaves the pool usable', async () => {
    const { proxy, pool } = await setup();
    await pool.query('SELECT 1');
    const poolErrors: unknown[] = [];
    pool.on('error', (e) => poolErrors.push(e));
    proxy.blackhole(); // the goodbye never arrives: the socket is destroyed instead
    const { drainPool } = await import('../../instrumentations/pg/pool.js');
    const controller = new AbortController();
    const drained = drainPool(pool, controller.signal);
    controller.abort();
    await drained;
    expect(pool.idleCount).toBe(0);
    expect(poolErrors).toEqual([]); // nothing the application would have to handle
    await proxy.heal();
    expect(await settle(pool.query('SELECT 2 AS n'))).toMatchObject({ ok: true, value: { rows: [{ n: 2 }] } });
  });
});
