import mysql from 'mysql2';
import mysqlPromise from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CircuitOpenError, isCircuitOpenError } from '../../src/breaker/index.js';
import type { FaultProxy } from '../support/faultProxy.js';
import { cleanup, startPlugin } from './downstream.js';
import { Clients, DB_BREAKER, codes, many, nameOf, options, run, settle, sleep, startProxy, until, type DbError } from './db-mysql2-helpers.js';

let proxy: FaultProxy;
const clients = new Clients();

beforeAll(async () => {
  proxy = await startProxy();
});
afterEach(async () => {
  await cleanup();
  await clients.endAll();
  await proxy.heal();
});
afterAll(async () => {
  await proxy.close();
});

const plugin = () => startPlugin({ breaker: DB_BREAKER });
const pool = (extra: Record<string, unknown> = {}) => clients.add(mysql.createPool(options(proxy, { connectionLimit: 2, ...extra })));
const connection = (extra: Record<string, unknown> = {}) => clients.add(mysql.createConnection(options(proxy, extra)));

function expectRefused(error: unknown, breaker: string): void {
  expect(isCircuitOpenError(error)).toBe(true);
  expect((error as CircuitOpenError).code).toBe('ECIRCUITOPEN');
  expect((error as CircuitOpenError).breaker).toBe(breaker);
}

describe('mysql2 breaker: tripping and failing fast', () => {
  it('trips on refused connections, then fails fast on every pool and connect path, opening no connection', async () => {
    const p = plugin();
    await proxy.refuse();
    const p1 = pool();
    expect(codes(await many(4, () => run(p1, 'SELECT 1')))).toEqual(['ECONNREFUSED', 'ECONNREFUSED', 'ECONNREFUSED', 'ECONNREFUSED']);
    const breaker = p.breakers.find(nameOf(proxy))!;
    expect(breaker.failures).toBe(4);
    expect(breaker.state).toBe('open');

    await proxy.heal(); // the server is reachable again: any connection we failed to stop would be counted
    const accepted = proxy.accepted;
    const name = nameOf(proxy);
    expectRefused((await run(p1, 'SELECT 1')).error, name);
    expectRefused((await run(p1, 'SELECT ?', [1], 'execute')).error, name);
    expectRefused((await settle(p1.promise().query('SELECT 1'))).error, name);
    expectRefused((await settle(p1.promise().getConnection())).error, name);
    const viaCallback = await new Promise<unknown>((resolve) => p1.getConnection((err) => resolve(err)));
    expectRefused(viaCallback, name);
    // A promise pool of its own, and a standalone connection (which connects in its constructor).
    const p2 = clients.add(mysqlPromise.createPool(options(proxy)));
    expectRefused((await settle(p2.query('SELECT 1'))).error, name);
    expectRefused((await settle(mysqlPromise.createConnection(options(proxy)))).error, name);
    expect(proxy.accepted).toBe(accepted);
    expect(breaker.rejections).toBe(7);
  });

  it('refuses a new connection through its own error path: queued queries get the error, the connection emits none and does not crash the process', async () => {
    const p = plugin();
    const name = nameOf(proxy);
    p.breakers.get(name).forceOpen();
    const accepted = proxy.accepted;

    const c = connection();
    const queued = await Promise.all([run(c, 'SELECT 1'), run(c, 'SELECT 2')]);
    for (const o of queued) expectRefused(o.error, name);
    await sleep(20); // mysql2 would emit 'error' on the connection by now if it were going to
    // A later call on the dead connection gets mysql2's own "closed state" error, as after any failed connect.
    expect((await run(c, 'SELECT 3')).error?.message).toMatch(/closed state/);

    const lone = connection();
    const error = await new Promise<unknown>((resolve) => lone.once('error', resolve));
    expectRefused(error, name);
    expect(proxy.accepted).toBe(accepted);
  });

  it('refuses calls on an open connection in every form (callback, execute, promise, event emitter, stream) and serves them again after the breaker closes', async () => {
    const p = plugin();
    const name = nameOf(proxy);
    const core = connection();
    const promised = clients.add(await mysqlPromise.createConnection(options(proxy)));
    expect((await run(core, 'SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    const breaker = p.breakers.get(name);
    breaker.forceOpen();

    expectRefused((await run(core, 'SELECT 1')).error, name);
    expectRefused((await run(core, 'SELECT ?', [1], 'execute')).error, name);
    expectRefused((await run(core, { sql: 'SELECT 1' })).error, name);
    expectRefused((await settle(promised.query('SELECT 1'))).error, name);
    expectRefused((await settle(promised.execute('SELECT ?', [1]))).error, name);

    const events: string[] = [];
    const cmd = core.query('SELECT 1');
    const emitted = await new Promise<unknown>((resolve) => {
      cmd.on('error', (e) => {
        events.push('error');
        resolve(e);
      });
      cmd.on('end', () => events.push('end'));
    });
    expectRefused(emitted, name);
    await sleep(0);
    expect(events).toEqual(['error', 'end']);

    const streamed = await new Promise<unknown>((resolve) => {
      const stream = core.query('SELECT 1').stream();
      stream.on('error', resolve);
      stream.on('data', () => resolve(new Error('got a row')));
    });
    expectRefused(streamed, name);

    breaker.reset();
    expect((await run(core, 'SELECT 2 AS two')).rows).toEqual([{ two: 2 }]);
    expect((await run(core, 'SELECT ? AS three', [3], 'execute')).rows).toEqual([{ three: 3 }]);
    expect((await promised.query('SELECT 4 AS four'))[0]).toEqual([{ four: 4 }]);
    const rows: unknown[] = [];
    await new Promise<void>((resolve, reject) => {
      core.query('SELECT 5 AS five').on('result', (r) => rows.push(r)).on('error', reject).on('end', () => resolve());
    });
    expect(rows).toEqual([{ five: 5 }]);
    expect(breaker.rejections).toBe(7);
  });

  it('half-opens after the reset timeout, closes once the server is back, and the same pool works again', async () => {
    const p = plugin();
    const p1 = pool();
    expect((await run(p1, 'SELECT 1')).error).toBeUndefined();
    proxy.stopUpstream();
    const failed = await many(4, () => run(p1, 'SELECT 1'));
    expect(failed.every((o) => o.error !== undefined)).toBe(true);
    const breaker = p.breakers.find(nameOf(proxy))!;
    expect(breaker.state).toBe('open');

    proxy.startUpstream();
    await until(() => breaker.peekState() === 'open' && Date.now() >= (breaker.retryAt ?? 0), 'the reset timeout');
    const accepted = proxy.accepted;
    const probes = await Promise.all([run(p1, 'SELECT 1 AS one'), run(p1, 'SELECT 1 AS one')]);
    expect(probes.map((o) => o.rows)).toEqual([[{ one: 1 }], [{ one: 1 }]]);
    expect(breaker.state).toBe('closed');
    expect(proxy.accepted - accepted).toBeGreaterThanOrEqual(1); // the probes made fresh connections
    expect(codes(await many(3, () => run(p1, 'SELECT 1')))).toEqual(['ok', 'ok', 'ok']);
  });

  it('counts connect timeouts and query timeouts, and every call settles by its timeout', async () => {
    const p = plugin();
    const name = nameOf(proxy);
    // Warm connections first, then the server stops answering on them.
    const conns = [connection(), connection(), connection(), connection()];
    for (const c of conns) expect((await run(c, 'SELECT 1')).error).toBeUndefined();
    p.breakers.get(name).reset(); // the warm-up calls' successes would dilute the failure rate
    proxy.blackhole();
    const timedOut = await Promise.all(conns.map((c) => run(c, { sql: 'SELECT 1', timeout: 200 })));
    expect(codes(timedOut)).toEqual(Array(4).fill('PROTOCOL_SEQUENCE_TIMEOUT'));
    const breaker = p.breakers.find(name)!;
    expect(breaker.failures).toBe(4);
    expect(breaker.state).toBe('open');
    for (const c of conns) c.destroy();

    breaker.reset();
    const p1 = pool({ connectTimeout: 200 });
    const connect = () => settle(mysqlPromise.createConnection(options(proxy, { connectTimeout: 200 })));
    const connects = await Promise.all([run(p1, 'SELECT 1'), run(p1, 'SELECT 1'), connect(), connect()]);
    expect(codes(connects)).toEqual(Array(4).fill('ETIMEDOUT'));
    await until(() => breaker.failures === 8, 'the connect timeouts to be counted');
    expect(breaker.state).toBe('open');
  });
});

describe('mysql2 breaker: what does not trip', () => {
  it('SQL errors, constraint violations, wrong credentials and unknown databases never count against the server', async () => {
    const p = plugin();
    const c = connection();
    const sqlErrors = [
      await run(c, 'SELEC 1'),
      await run(c, 'SELECT * FROM no_such_table'),
      await run(c, 'SELECT no_such_column FROM DUAL'),
      await run(c, 'CREATE TEMPORARY TABLE t (id INT PRIMARY KEY)'),
      await run(c, 'INSERT INTO t VALUES (1)'),
      await run(c, 'INSERT INTO t VALUES (1)'),
      await run(c, 'SELECT ?', ['x'], 'execute'),
    ];
    expect(codes(sqlErrors)).toEqual(['ER_PARSE_ERROR', 'ER_NO_SUCH_TABLE', 'ER_BAD_FIELD_ERROR', 'ok', 'ok', 'ER_DUP_ENTRY', 'ok']);

    const wrongPassword = await many(5, () => settle(mysqlPromise.createConnection(options(proxy, { password: 'not-the-password' }))));
    expect(codes(wrongPassword)).toEqual(Array(5).fill('ER_ACCESS_DENIED_ERROR'));
    const unknownUser = await many(3, () => settle(mysqlPromise.createConnection(options(proxy, { user: 'no_such_user', password: 'x' }))));
    expect(unknownUser.every((o) => /ER_ACCESS_DENIED/.test(o.error?.code ?? ''))).toBe(true);
    const breaker = p.breakers.find(nameOf(proxy))!;
    await sleep(20);
    expect(breaker.failures).toBe(0);
    expect(breaker.state).toBe('closed');
    expect(breaker.successes).toBeGreaterThanOrEqual(7);

    const unknownDb = await many(5, () => settle(mysqlPromise.createConnection(options(proxy, { database: 'no_such_db' }))));
    expect(codes(unknownDb)).toEqual(Array(5).fill('ER_BAD_DB_ERROR'));
    expect(p.breakers.find(nameOf(proxy, 'no_such_db'))!.failures).toBe(0);
    // A connection that failed on credentials was not refused: the server keeps getting tried.
    expect(p.breakers.find(nameOf(proxy))!.rejections).toBe(0);
  });

  it('db.isFailure has the final word (here: wrong credentials count), and db.mysql2: false leaves mysql2 alone', async () => {
    const p = startPlugin({ breaker: DB_BREAKER, db: { isFailure: (e) => ((e as DbError).code === 'ER_ACCESS_DENIED_ERROR' ? true : undefined) } });
    const denied = () => settle(mysqlPromise.createConnection(options(proxy, { password: 'not-the-password' })));
    expect(codes(await many(4, denied))).toEqual(Array(4).fill('ER_ACCESS_DENIED_ERROR'));
    expect(p.breakers.find(nameOf(proxy))!.state).toBe('open');
    expect((await denied()).error?.code).toBe('ECIRCUITOPEN');
    await cleanup();

    const off = startPlugin({ breaker: DB_BREAKER, db: { mysql2: false } });
    expect(codes(await many(4, denied))).toEqual(Array(4).fill('ER_ACCESS_DENIED_ERROR'));
    expect((await run(pool(), 'SELECT 1')).error).toBeUndefined();
    expect(off.breakers.size).toBe(0);
  });

  it('arguments mysql2 rejects throw as usual and hold no permit; a malformed connection string is mysql2 own error', async () => {
    const p = plugin();
    const c = connection();
    expect((await run(c, 'SELECT 1')).error).toBeUndefined();
    expect(() => c.execute('SELECT ?', [undefined as unknown as null], () => undefined)).toThrow(/must not contain undefined/);
    expect(() => mysql.createConnection('not a url')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_URL' }) as Error);
    expect(() => mysql.createPool('mysql://root@[bad/test')).toThrow(TypeError);
    const breaker = p.breakers.find(nameOf(proxy))!;
    breaker.forceOpen();
    breaker.reset(); // a permit still held would make the next probe count wrong; none is
    expect(codes(await many(2, () => run(c, 'SELECT 1')))).toEqual(['ok', 'ok']);
    expect(p.breakers.list().map((b) => b.name)).toEqual([nameOf(proxy)]);
  });
});

describe('mysql2 breaker: destinations and lifecycle', () => {
  it('one breaker per server and database; names carry no credentials', async () => {
    const p = plugin();
    const c = connection({ user: 'no_such_user', password: 'hunter2-secret' });
    expect((await run(c, 'SELECT 1')).error?.code).toMatch(/ER_ACCESS_DENIED/);
    const other = connection({ database: 'information_schema' });
    p.breakers.get(nameOf(proxy)).forceOpen();
    expect((await run(other, 'SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    const names = p.breakers.list().map((b) => b.name).sort();
    expect(names).toEqual([nameOf(proxy, 'information_schema'), nameOf(proxy)].sort());
    expect(JSON.stringify(p.breakers.list().map((b) => b.toJSON()))).not.toMatch(/hunter2|no_such_user/);
  });

  it('guards clients created before the plugin started, and lets everything through after it shut down', async () => {
    const early = pool();
    const earlyConn = connection();
    expect((await run(early, 'SELECT 1')).error).toBeUndefined();
    expect((await run(earlyConn, 'SELECT 1')).error).toBeUndefined();
    const p = plugin();
    const breaker = p.breakers.get(nameOf(proxy));
    breaker.forceOpen();
    const accepted = proxy.accepted;
    expectRefused((await run(early, 'SELECT 1')).error, nameOf(proxy));
    expectRefused((await run(earlyConn, 'SELECT 1')).error, nameOf(proxy));
    expect(proxy.accepted).toBe(accepted);

    await p.shutdown();
    expect((await run(early, 'SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    expect((await run(earlyConn, 'SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    expect(breaker.rejections).toBe(2);
  });

  it('guards PoolCluster through its pools: a refusal reaches the caller as a node error, with no connection', async () => {
    const p = plugin();
    const cluster = clients.add(mysql.createPoolCluster({ restoreNodeTimeout: 1_000 }));
    cluster.add('primary', options(proxy));
    expect((await run(cluster.of('*'), 'SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    p.breakers.get(nameOf(proxy)).forceOpen();
    const accepted = proxy.accepted;
    const warnings: unknown[] = [];
    cluster.on('warn', (e) => warnings.push(e));
    const refused = await new Promise<unknown>((resolve) => cluster.getConnection((err) => resolve(err)));
    // PoolCluster retries a failing node (removeNodeErrorCount 5), then takes it offline for
    // restoreNodeTimeout: what it does after connection errors.
    expect(warnings).toHaveLength(4);
    for (const w of [...warnings, refused]) expectRefused(w, nameOf(proxy));
    expect(proxy.accepted).toBe(accepted);
  });

  it('an unreachable port trips its own breaker and leaves the healthy destination alone', async () => {
    const p = plugin();
    const dead = clients.add(mysql.createPool({ ...options(proxy), port: 1 }));
    expect(codes(await many(4, () => run(dead, 'SELECT 1')))).toEqual(Array(4).fill('ECONNREFUSED'));
    expect(p.breakers.find('mysql://127.0.0.1:1/test')!.state).toBe('open');
    expect((await run(dead, 'SELECT 1')).error?.code).toBe('ECIRCUITOPEN');
    expect((await run(pool(), 'SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    expect(p.breakers.find(nameOf(proxy))!.state).toBe('closed');
  });
});

