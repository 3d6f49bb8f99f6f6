/**
 * Helpers of the mysql2 breaker tests: the real MariaDB on 127.0.0.1:3306 (root, no password,
 * database `test`) behind the fault proxy, and the call forms turned into outcomes a test reads.
 */
import { createRequire } from 'node:module';
import type { Connection, Pool, QueryError } from 'mysql2';
import type { BreakerOptions } from '../../src/breaker/index.js';
import { FaultProxy } from '../support/faultProxy.js';

export const MARIADB_PORT = 3306;

/** Breaker options for these tests: judged from 4 calls, opens at 50 %, two good probes close it. */
export const DB_BREAKER: BreakerOptions = Object.freeze({
  minimumRequests: 4,
  windowSize: 10,
  failureThreshold: 0.5,
  resetTimeout: 300,
  backoffMultiplier: 1,
  jitter: 0,
  halfOpenRequestLimit: 2,
  halfOpenSuccessThreshold: 1,
});

export type DbError = QueryError & { breaker?: string; state?: string };
export type Outcome = { rows: unknown; error?: undefined } | { rows?: undefined; error: DbError };

export async function startProxy(): Promise<FaultProxy> {
  return FaultProxy.start({ upstreamPort: MARIADB_PORT });
}

/** Connection options through the proxy; short timeouts so no test waits long on a fault. */
export function options(proxy: FaultProxy, extra: Record<string, unknown> = {}): Record<string, unknown> & { host: string; port: number } {
  return { host: '127.0.0.1', port: proxy.port, user: 'root', password: '', database: 'test', connectTimeout: 1_000, ...extra };
}

/** The breaker name of the proxy's destination. */
export const nameOf = (proxy: FaultProxy, database = 'test') => `mysql://127.0.0.1:${proxy.port}/${database}`;

type Queryable = Pick<Connection | Pool, 'query' | 'execute'>;

/** One `query` (or `execute`) in the callback form. */
export function run(client: Queryable, sql: string | { sql: string; timeout?: number }, values?: unknown[], method: 'query' | 'execute' = 'query'): Promise<Outcome> {
  return new Promise((resolve) => {
    const cb = (error: QueryError | null, rows: unknown) => resolve(error ? { error: error as DbError } : { rows });
    const fn = client[method] as unknown as (...a: unknown[]) => unknown;
    if (values === undefined) fn.call(client, sql, cb);
    else fn.call(client, sql, values, cb);
  });
}

/** A promise-API call turned into an outcome. */
export async function settle(p: Promise<unknown>): Promise<Outcome> {
  try {
    return { rows: await p };
  } catch (error) {
    return { error: error as DbError };
  }
}

/** `n` calls one after the other. */
export async function many(n: number, call: () => Promise<Outcome>): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for (let i = 0; i < n; i++) out.push(await call());
  return out;
}

export const codes = (outcomes: Outcome[]) => outcomes.map((o) => o.error?.code ?? 'ok');

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `test` until it holds (bounded): for outcomes a client reports a tick after the caller's. */
export async function until(test: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Ends every client a test made (errors of dead ones ignored). */
export class Clients {
  private readonly open: Array<{ end(cb?: (err?: unknown) => void): unknown; destroy?(): void }> = [];

  add<T extends { end(cb?: (err?: unknown) => void): unknown }>(client: T): T {
    this.open.push(client);
    return client;
  }

  async endAll(): Promise<void> {
    const all = this.open.splice(0);
    await Promise.all(
      all.map(
        (c) =>
          new Promise<void>((resolve) => {
            const t = setTimeout(() => {
              c.destroy?.();
              resolve();
            }, 500);
            try {
              c.end(() => {
                clearTimeout(t);
                resolve();
              });
            } catch {
              clearTimeout(t);
              c.destroy?.();
              resolve();
            }
          }),
      ),
    );
  }
}

/**
 * A fresh copy of mysql2 (its files dropped from the require cache first), loaded through
 * `require` so the require hooks of instrumentations made before see it load: what an
 * application that loads mysql2 after starting the SDK gets.
 */
export function freshMysql2<T = typeof import('mysql2')>(entry: 'mysql2' | 'mysql2/promise' = 'mysql2'): T {
  const req = createRequire(import.meta.url);
  for (const file of Object.keys(req.cache)) if (file.replaceAll('\\', '/').includes('/node_modules/mysql2/')) delete req.cache[file];
  return req(entry) as T;
}
