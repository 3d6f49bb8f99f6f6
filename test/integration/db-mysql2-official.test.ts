import { SpanKind } from '@opentelemetry/api';
import { MySQL2Instrumentation } from '@opentelemetry/instrumentation-mysql2';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isOurs } from '../../instrumentations/shared/index.js';
import { getSelfHealing, withSelfHealing } from '../../src/index.js';
import type { FaultProxy } from '../support/faultProxy.js';
import { cleanup, startPlugin } from './downstream.js';
import { Clients, DB_BREAKER, freshMysql2, nameOf, options, run, sleep, startProxy, until } from './db-mysql2-helpers.js';

type Mysql2 = typeof import('mysql2');

let proxy: FaultProxy;
const clients = new Clients();
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const officials: MySQL2Instrumentation[] = [];

beforeAll(async () => {
  proxy = await startProxy();
});
afterEach(async () => {
  await cleanup();
  await clients.endAll();
  for (const o of officials.splice(0)) o.disable();
  await proxy.heal();
  exporter.reset();
});
afterAll(async () => {
  await proxy.close();
});

function official(): MySQL2Instrumentation {
  const o = new MySQL2Instrumentation();
  o.setTracerProvider(provider);
  officials.push(o);
  return o;
}

function plugin() {
  const p = startPlugin({ breaker: DB_BREAKER });
  for (const i of p.instrumentations) i.setTracerProvider(provider);
  return p;
}

/**
 * The wrappers on the connection prototype, outermost first: ours, the official one (shimmer's),
 * the original. Only the current wrapper of ours knows what it wraps: the walk stops at an old one.
 */
function chain(mysql: Mysql2, method: 'query' | 'execute'): string[] {
  const out: string[] = [];
  const proto = Object.getPrototypeOf(mysql.Connection.prototype) as Record<string | symbol, unknown>;
  const slot = proto[Symbol.for(`otel-self-heal.db.mysql2.${method}`)] as { wrapper: unknown; original: unknown } | undefined;
  let fn = proto[method] as { __original?: unknown } | undefined;
  for (let i = 0; fn && i < 8; i++) {
    if (isOurs(fn)) {
      out.push(fn === slot?.wrapper ? 'ours' : 'ours (pass-through)');
      fn = fn === slot?.wrapper ? (slot.original as typeof fn) : undefined;
    } else if (fn.__original) {
      out.push('official');
      fn = fn.__original as typeof fn;
    } else {
      out.push('original');
      fn = undefined;
    }
  }
  return out;
}

const clientSpans = (): ReadableSpan[] => exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT);
const officialSpans = () => clientSpans().filter((s) => s.instrumentationScope.name === '@opentelemetry/instrumentation-mysql2');
const ourSpans = () => clientSpans().filter((s) => s.instrumentationScope.name !== '@opentelemetry/instrumentation-mysql2');

/** A query works and gets its official span; with the breaker forced open, calls are refused with no connection and show as our span. */
async function expectGuardedAndTraced(mysql: Mysql2, breakers: { get(name: string): { forceOpen(): void; reset(): void } }): Promise<void> {
  const name = nameOf(proxy);
  const conn = clients.add(mysql.createConnection(options(proxy)));
  conn.on('error', () => undefined); // it is idle when a later fault resets it
  const pool = clients.add(mysql.createPool(options(proxy)));
  expect((await run(conn, 'SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  expect((await run(pool, 'SELECT ? AS two', [2], 'execute')).rows).toEqual([{ two: 2 }]);
  expect(officialSpans().map((s) => s.name)).toEqual(['SELECT', 'SELECT']);
  expect(officialSpans()[0]!.attributes['db.system.name']).toBe('mysql');

  breakers.get(name).forceOpen();
  const accepted = proxy.accepted;
  exporter.reset();
  const refused = [await run(conn, 'SELECT 1'), await run(conn, 'SELECT 1', [], 'execute'), await run(pool, 'SELECT 1'), await run(mysql.createConnection(options(proxy)), 'SELECT 1')];
  expect(refused.map((o) => o.error?.code)).toEqual(Array(4).fill('ECIRCUITOPEN'));
  expect(proxy.accepted).toBe(accepted);
  // Refused calls are ours alone: no official span (which health would count as a failure).
  expect(officialSpans()).toEqual([]);
  const ours = ourSpans();
  expect(ours.map((s) => s.name)).toEqual(['SELECT test', 'SELECT test', 'connect test', 'connect test']);
  for (const s of ours) {
    expect(s.attributes).toMatchObject({ 'db.system.name': 'mysql', 'db.namespace': 'test', 'server.port': proxy.port, 'error.type': 'CircuitOpenError' });
    expect(s.events.map((e) => e.name)).toEqual(['selfheal.breaker.rejected']);
  }
  breakers.get(name).reset();
  expect((await run(conn, 'SELECT 3 AS three')).rows).toEqual([{ three: 3 }]);
}

describe('mysql2 breaker with the official instrumentation', () => {
  it('official constructed first: ours ends up outermost, guards, and the official spans are still made', async () => {
    official();
    const p = plugin();
    const mysql = freshMysql2();
    await sleep(0);
    expect(chain(mysql, 'query')).toEqual(['ours', 'official', 'original']);
    expect(chain(mysql, 'execute')).toEqual(['ours', 'official', 'original']);
    await expectGuardedAndTraced(mysql, p.breakers);
  });

  it('ours constructed first, the official one after: same chain, same guarding', async () => {
    const p = plugin();
    official();
    const mysql = freshMysql2();
    await sleep(0);
    // The official one wrapped ours at load; ours went back on top, the old one passes through.
    expect(chain(mysql, 'query')).toEqual(['ours', 'official', 'ours (pass-through)']);
    expect(chain(mysql, 'execute')).toEqual(['ours', 'official', 'ours (pass-through)']);
    await expectGuardedAndTraced(mysql, p.breakers);
  });

  it('mysql2 loaded before both: ours wraps on top when enabled (the official one cannot patch a loaded module)', async () => {
    const mysql = freshMysql2();
    official();
    const p = plugin();
    expect(chain(mysql, 'query')[0]).toBe('ours');
    p.breakers.get(nameOf(proxy)).forceOpen();
    const accepted = proxy.accepted;
    expect((await run(clients.add(mysql.createPool(options(proxy))), 'SELECT 1')).error?.code).toBe('ECIRCUITOPEN');
    expect(proxy.accepted).toBe(accepted);
  });
});

describe('mysql2 breaker under NodeSDK (withSelfHealing adds the official instrumentation)', () => {
  let sdk: NodeSDK;
  afterAll(async () => {
    await sdk?.shutdown();
  });

  it('guards and traces, and recovery drains the pool so it works again after a server restart', async () => {
    sdk = new NodeSDK(withSelfHealing({ spanProcessors: [new SimpleSpanProcessor(exporter)] }, { breaker: DB_BREAKER }));
    sdk.start();
    const plugin = getSelfHealing()!;
    const mysql = freshMysql2();
    await sleep(0);
    expect(chain(mysql, 'query')[0]).toBe('ours');
    expect(chain(mysql, 'query')).toContain('official');
    await expectGuardedAndTraced(mysql, plugin.breakers);

    // Two pooled connections, idle, that mysql2 believes healthy; then the server stops
    // answering on them without closing them (nothing tells mysql2 they are dead).
    const name = nameOf(proxy);
    const pool = clients.add(mysql.createPool(options(proxy, { connectionLimit: 2 })));
    const idOf = (o: { rows?: unknown }) => (o.rows as Array<{ id: number }>)[0]!.id;
    const warm = await Promise.all([run(pool, 'SELECT CONNECTION_ID() AS id, SLEEP(0.05)'), run(pool, 'SELECT CONNECTION_ID() AS id, SLEEP(0.05)')]);
    const before = warm.map(idOf);
    expect(new Set(before).size).toBe(2);
    proxy.blackhole();
    const open = proxy.openConnections;
    const recover = () => plugin.recovery.requestRecovery(name, 'connection-lost', { kind: 'failed', reason: 'server restarted' });
    const drained = await recover();
    expect(drained.attempts[0]?.action).toBe('restart');
    expect(drained.attempts[0]?.success).toBe(true);
    await until(() => proxy.openConnections <= open - 2, 'the idle sockets to close');
    await proxy.heal();
    const fresh = await run(pool, { sql: 'SELECT CONNECTION_ID() AS id', timeout: 2_000 });
    expect(before).not.toContain(idOf(fresh));

    // A server restart: open connections drop, calls fail, then it is back; after recovery the pool works.
    proxy.stopUpstream();
    expect((await run(pool, 'SELECT 1')).error?.fatal).toBe(true);
    proxy.startUpstream();
    expect((await recover()).attempts[0]?.success).toBe(true);
    const after = await run(pool, { sql: 'SELECT CONNECTION_ID() AS id', timeout: 2_000 });
    expect(after.error).toBeUndefined();
    expect([...before, idOf(fresh)]).not.toContain(idOf(after));
  });
});
