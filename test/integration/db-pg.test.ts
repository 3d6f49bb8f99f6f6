import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CircuitOpenError } from '../../src/breaker/index.js';
import type { FaultProxy } from '../support/faultProxy.js';
import { cleanup, sleep, startPlugin } from './downstream.js';
import { PG_BREAKER, TinySubmittable, breakerName, loadPg, pgOptions, settle, startProxy, turns, viaCallback, type Outcome, type PgClient } from './db-pg-support.js';

// pg is loaded before any plugin exists: the plugin patches the copy already loaded, and the
// client made here, before the plugin, is guarded like any other.
const pg = loadPg();
let early: { proxy: FaultProxy; client: PgClient };

const proxies: FaultProxy[] = [];
async function proxy(): Promise<FaultProxy> {
  const p = await startProxy();
  proxies.push(p);
  return p;
}
const ends: Array<() => Promise<unknown>> = [];
function client(p: FaultProxy, extra: Record<string, unknown> = {}): PgClient {
  const c = new pg.Client(pgOptions(p, extra));
  c.on('error', () => undefined); // a dropped connection is reported on the client too
  ends.push(() => c.end().catch(() => undefined));
  return c;
}
function pool(p: FaultProxy, extra: Record<string, unknown> = {}) {
  const pl = new pg.Pool(pgOptions(p, extra));
  pl.on('error', () => undefined);
  ends.push(() => pl.end().catch(() => undefined));
  return pl;
}
const start = (options: Parameters<typeof startPlugin>[0] = {}) => startPlugin({ ...options, breaker: { ...PG_BREAKER, ...options.breaker } });
const isOpenError = (o: Outcome, name: string) => !o.ok && o.error instanceof CircuitOpenError && o.error.code === 'ECIRCUITOPEN' && o.error.breaker === name;

beforeAll(async () => {
  const p = await proxy();
  early = { proxy: p, client: new pg.Client(pgOptions(p)) };
  early.client.on('error', () => undefined);
  await early.client.connect();
});
afterEach(async () => {
  await cleanup();
  await Promise.all(ends.splice(0).map((end) => end()));
});
afterAll(async () => {
  await early.client.end().catch(() => undefined);
  await Promise.all(proxies.map((p) => p.close()));
});

describe('pg breaker: every call path', () => {
  it('fails each form fast with CircuitOpenError through pg’s own error path, opening no connection', async () => {
    const plugin = start();
    const p = await proxy();
    const name = breakerName(p);
    const connected = client(p);
    await connected.connect();
    expect(p.accepted).toBe(1);
    const breaker = plugin.breakers.get(name);
    breaker.forceOpen();

    let syncCallback = false;
    connected.query('SELECT 1', () => (syncCallback = true));
    expect(syncCallback).toBe(false); // like pg's own errors: never on the caller's stack
    await turns();
    expect(syncCallback).toBe(true);

    const sub = new TinySubmittable('SELECT 1');
    const subReturned = connected.query(sub);
    const subWithCallback = new TinySubmittable('SELECT 2');
    const fresh = client(p);
    const pl = pool(p);
    const outcomes = await Promise.all([
      settle(connected.query('SELECT 1')),
      settle(connected.query('SELECT $1::int AS n', [1])),
      settle(viaCallback(connected, 'SELECT 1')),
      settle(viaCallback(connected, 'SELECT $1::int AS n', [1])),
      settle(connected.query({ text: 'SELECT $1::int AS n', values: [1] })),
      settle(new Promise((resolve, reject) => connected.query({ text: 'SELECT 1', callback: (e: Error | null, r: unknown) => (e ? reject(e) : resolve(r)) }))),
      settle(sub.done()),
      settle(new Promise((resolve, reject) => connected.query(subWithCallback, (e: Error | null, r: unknown) => (e ? reject(e) : resolve(r))))),
      settle(fresh.connect()),
      settle(new Promise<void>((resolve, reject) => fresh.connect((e) => (e ? reject(e) : resolve())))),
      settle(pl.query('SELECT 1')),
      settle(viaCallback(pl, 'SELECT 1')),
      settle(pl.connect()),
      settle(new Promise((resolve, reject) => pl.connect((e, c) => (e ? reject(e) : resolve(c))))),
    ]);
    expect(subReturned).toBe(sub); // pg returns the Submittable itself
    for (const o of outcomes) expect(isOpenError(o, name), JSON.stringify(o)).toBe(true);
    expect(p.accepted).toBe(1);
    expect(pl.totalCount).toBe(0); // the open breaker made no pooled client
    expect(breaker.rejections).toBe(outcomes.length + 1);
    expect(breaker.failures).toBe(0); // refusals, nested or not, are never counted as failures

    // Nothing in the client changed: it works on its one connection once the breaker lets calls through.
    breaker.reset();
    const after = await settle(connected.query('SELECT 42 AS n'));
    expect(after.ok && (after.value as { rows: unknown[] }).rows).toEqual([{ n: 42 }]);
    await fresh.connect();
    expect(await pl.query('SELECT 1 AS one')).toMatchObject({ rows: [{ one: 1 }] });
    expect(p.accepted).toBe(3);
  });

  it('guards a client created before the plugin started, and lets it through unguarded after shutdown', async () => {
    const plugin = start();
    const name = breakerName(early.proxy);
    plugin.breakers.get(name).forceOpen();
    expect(isOpenError(await settle(early.client.query('SELECT 1')), name)).toBe(true);
    await plugin.shutdown();
    expect(await settle(early.client.query('SELECT 7 AS n'))).toMatchObject({ ok: true, value: { rows: [{ n: 7 }] } });
  });

  it('guards nothing with db.pg: false', async () => {
    const plugin = start({ db: { pg: false } });
    const p = await proxy();
    const c = client(p);
    await c.connect();
    await c.query('SELECT 1');
    expect(plugin.breakers.find(breakerName(p))).toBeUndefined();
  });
});

describe('pg breaker: faults through the proxy', () => {
  it('opens on connection failures, refuses without connecting, half-opens, and closes when the server is back', async () => {
    const plugin = start();
    const p = await proxy();
    const name = breakerName(p);
    const pl = pool(p);
    expect((await settle(pl.query('SELECT 1'))).ok).toBe(true);
    const breaker = plugin.breakers.get(name);

    p.stopUpstream(); // the server goes away: open connections are reset, new ones too
    const failures: Outcome[] = [];
    while (breaker.state === 'closed' && failures.length < 6) failures.push(await settle(pl.query('SELECT 1')));
    expect(breaker.state).toBe('open');
    for (const f of failures) expect(f.ok).toBe(false);
    expect(breaker.failures).toBe(failures.length);

    p.startUpstream(); // the server is back, but the breaker does not know yet
    const accepted = p.accepted;
    for (let i = 0; i < 3; i++) expect(isOpenError(await settle(pl.query('SELECT 1')), name)).toBe(true);
    expect(p.accepted).toBe(accepted);
    expect(pl.totalCount).toBe(0);

    await sleep(PG_BREAKER.resetTimeout! + 100);
    expect(await settle(pl.query('SELECT 3 AS n'))).toMatchObject({ ok: true, value: { rows: [{ n: 3 }] } });
    expect(breaker.state).toBe('closed');
    expect(p.accepted).toBe(accepted + 1);
    expect((await settle(pl.query('SELECT 1'))).ok).toBe(true);
  });

  it('counts query timeouts; a client whose calls were refused works again once the breaker closes', async () => {
    const plugin = start();
    const p = await proxy();
    const name = breakerName(p);
    const c = client(p, { query_timeout: 150 });
    await c.connect();
    const breaker = plugin.breakers.get(name);
    p.latency(500); // slower than the client waits: every query times out, the connection lives
    const timeouts: Outcome[] = [];
    while (breaker.state === 'closed' && timeouts.length < 6) timeouts.push(await settle(c.query('SELECT 1')));
    expect(breaker.state).toBe('open');
    for (const t of timeouts) expect(!t.ok && t.error.message).toBe('Query read timeout');

    expect(isOpenError(await settle(c.query('SELECT 1')), name)).toBe(true);
    p.latency(0);
    await sleep(PG_BREAKER.resetTimeout! + 100);
    // The probe may wait behind the late answer to the last timed-out query: give it time.
    expect(await settle(c.query({ text: 'SELECT 5 AS n', query_timeout: 5_000 }))).toMatchObject({ ok: true, value: { rows: [{ n: 5 }] } });
    expect(breaker.state).toBe('closed');
    expect(p.accepted).toBe(1); // one connection from start to end
  });

  it('settles every call under a blackhole: connect and query timeouts count as failures', async () => {
    const plugin = start({ breaker: { minimumRequests: 6, windowSize: 6 } });
    const p = await proxy();
    const c = client(p, { query_timeout: 200 });
    await c.connect();
    p.blackhole();
    const outcomes = [
      await settle(c.query('SELECT 1')),
      await settle(client(p, { connectionTimeoutMillis: 200 }).connect()),
      await settle(pool(p, { connectionTimeoutMillis: 200 }).query('SELECT 1')),
    ];
    expect(outcomes.map((o) => !o.ok && o.error.message)).toEqual([
      'Query read timeout',
      expect.stringMatching(/timeout|terminated/),
      expect.stringMatching(/timeout|terminated/),
    ]);
    expect(plugin.breakers.get(breakerName(p)).failures).toBe(3);
  });
});

describe('pg breaker: what counts as a failure', () => {
  it('never trips on the application’s own errors or on wrong credentials', async () => {
    const plugin = start();
    const p = await proxy();
    const c = client(p);
    await c.connect();
    await c.query('CREATE TEMP TABLE t (id int PRIMARY KEY)');
    await c.query('INSERT INTO t VALUES (1)');
    const errors: Outcome[] = [];
    for (let round = 0; round < 2; round++) {
      errors.push(await settle(c.query('SELEC 1'))); // 42601 syntax
      errors.push(await settle(c.query('SELECT * FROM no_such_table'))); // 42P01
      errors.push(await settle(c.query('INSERT INTO t VALUES (1)'))); // 23505 unique violation
      errors.push(await settle(c.query('SELECT 1/0'))); // 22012
      // Trust auth accepts any password here, so wrong credentials are an unknown role and database.
      errors.push(await settle(client(p, { user: 'no_such_role_selfheal' }).connect())); // 28000
      errors.push(await settle(client(p, { database: 'no_such_db_selfheal' }).connect())); // 3D000
    }
    expect(errors.map((e) => !e.ok && e.error.code)).toEqual(Array(2).fill(['42601', '42P01', '23505', '22012', '28000', '3D000']).flat());
    const breaker = plugin.breakers.get(breakerName(p));
    expect(breaker.state).toBe('closed');
    expect(breaker.failures).toBe(0);
    expect(plugin.breakers.get(breakerName(p, 'no_such_db_selfheal')).failures).toBe(0);
    expect(await settle(c.query('SELECT 1 AS one'))).toMatchObject({ ok: true });
  });

  it('lets db.isFailure decide, falling back to the default rule when it returns undefined', async () => {
    const plugin = start({ breaker: { minimumRequests: 6 }, db: { isFailure: (e) => ((e as { code?: string }).code === '42P01' ? true : undefined) } });
    const p = await proxy();
    const c = client(p);
    await c.connect();
    for (let i = 0; i < 3; i++) await settle(c.query('SELECT * FROM no_such_table'));
    await settle(c.query('SELEC 1'));
    expect(plugin.breakers.get(breakerName(p)).failures).toBe(3);
  });
});
