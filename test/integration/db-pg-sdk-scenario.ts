/**
 * The pg breaker beside the official `@opentelemetry/instrumentation-pg`, in a real NodeSDK made
 * by `withSelfHealing`, with pg loaded after `sdk.start()` (the require hooks patch it). Run by
 * two test files, one per construction order, since patches are per process.
 */
import { NodeSDK } from '@opentelemetry/sdk-node';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { SpanKind } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isOurs } from '../../instrumentations/shared/index.js';
import { getSelfHealing } from '../../src/SelfHealing.js';
import { withSelfHealing } from '../../src/withSelfHealing.js';
import type { FaultProxy } from '../support/faultProxy.js';
import { sleep } from './downstream.js';
import { PG_BREAKER, breakerName, loadPg, pgOptions, settle, startProxy, viaCallback, type Pg, type PgClient, type PgPool } from './db-pg-support.js';

const OFFICIAL = '@opentelemetry/instrumentation-pg';

export function sdkScenario(order: 'official-first' | 'ours-first'): void {
  describe(`pg breaker with the official instrumentation constructed ${order}`, () => {
    const exporter = new InMemorySpanExporter();
    let sdk: NodeSDK;
    let pg: Pg;
    let proxy: FaultProxy;
    let pool: PgPool;
    const clients: PgClient[] = [];
    const client = () => {
      const c = new pg.Client(pgOptions(proxy));
      c.on('error', () => undefined);
      clients.push(c);
      return c;
    };
    const clientSpans = () => exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT);

    beforeAll(async () => {
      proxy = await startProxy();
      sdk = new NodeSDK(
        withSelfHealing(
          {
            spanProcessors: [new SimpleSpanProcessor(exporter)],
            // Given by the user: constructed before the plugin. Otherwise the plugin adds its own, after itself.
            instrumentations: order === 'official-first' ? [new PgInstrumentation()] : [],
            autoDetectResources: false,
          },
          // Health would open breakers from the failing spans too; this test is about the breaker alone.
          { breaker: PG_BREAKER, health: { enabled: false } },
        ),
      );
      sdk.start();
      pg = loadPg();
      pool = new pg.Pool(pgOptions(proxy));
      pool.on('error', () => undefined);
    });

    afterAll(async () => {
      await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
      await pool.end().catch(() => undefined);
      await sdk.shutdown();
      await proxy.close();
    });

    it('keeps the official spans, one per call, with our query wrapper on top of the official one', async () => {
      const c = client();
      await c.connect();
      await c.query('SELECT 1');
      await viaCallback(c, 'SELECT $1::int', [2]);
      await pool.query('SELECT 3');
      expect(isOurs((pg.Client.prototype as unknown as { query: unknown }).query)).toBe(true);
      const official = clientSpans().filter((s) => s.instrumentationScope.name === OFFICIAL);
      const names = official.map((s) => s.name).sort();
      expect(names).toEqual(['pg-pool.connect', 'pg.connect', 'pg.connect', 'pg.query:SELECT test', 'pg.query:SELECT test', 'pg.query:SELECT test']);
      for (const s of official) expect(s.attributes['server.port']).toBe(proxy.port);
    });

    it('opens under the official wrapper, refuses every path with no connection, and marks each refusal once', async () => {
      const breaker = getSelfHealing()!.breakers.get(breakerName(proxy));
      proxy.stopUpstream();
      for (let i = 0; i < 6 && breaker.state === 'closed'; i++) expect((await settle(pool.query('SELECT 1'))).ok).toBe(false);
      expect(breaker.state).toBe('open');
      proxy.startUpstream();
      const accepted = proxy.accepted;
      exporter.reset();

      const refused = await Promise.all([
        settle(client().query('SELECT 1')),
        settle(client().connect()),
        settle(pool.query('SELECT 1')),
        settle(pool.connect()),
      ]);
      for (const r of refused) expect(!r.ok && r.error.code).toBe('ECIRCUITOPEN');
      expect(proxy.accepted).toBe(accepted);
      expect(pool.totalCount).toBe(0);

      // One CLIENT span per refused call (the official one marked, or ours where it never ran),
      // each saying CircuitOpenError: what health skips, so refusals never count as failures.
      const spans = clientSpans();
      expect(spans).toHaveLength(refused.length);
      for (const s of spans) {
        expect(s.attributes['error.type'], describeSpan(s)).toBe('CircuitOpenError');
        expect(s.events.map((e) => e.name)).toContain('selfheal.breaker.rejected');
      }

      await sleep(PG_BREAKER.resetTimeout! + 100);
      expect(await settle(pool.query('SELECT 4 AS n'))).toMatchObject({ ok: true, value: { rows: [{ n: 4 }] } });
      expect(breaker.state).toBe('closed');
      expect(clientSpans().filter((s) => s.name === 'pg.query:SELECT test' && s.instrumentationScope.name === OFFICIAL)).toHaveLength(1);
    });
  });
}

function describeSpan(s: ReadableSpan): string {
  return `${s.instrumentationScope.name} ${s.name} ${JSON.stringify(s.attributes)}`;
}
