/**
 * Shared parts of the pg breaker tests: pg loaded through `require` (as a CommonJS app loads it,
 * so the require hooks see it), small breaker options, a client and pool factory pointed at a
 * fault proxy in front of the real PostgreSQL, and a Submittable small enough to write here.
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { BreakerOptions } from '../../src/breaker/index.js';
import { FaultProxy } from '../support/faultProxy.js';

const require = createRequire(import.meta.url);

export const PG_PORT = 5432;

/** The parts of pg the tests use (pg ships no types here). */
/** A query's result (the promise form; the callback and Submittable forms return something else). */
export interface PgResult {
  rows: Array<Record<string, unknown>>;
}
export interface PgClient extends EventEmitter {
  connectionParameters: { host: string; port: number; database: string };
  query(...args: unknown[]): Promise<PgResult>;
  connect(cb?: (err?: Error) => void): Promise<unknown> | undefined;
  end(): Promise<void>;
}
export interface PgPool extends EventEmitter {
  totalCount: number;
  idleCount: number;
  options: Record<string, unknown>;
  query(...args: unknown[]): Promise<PgResult>;
  connect(cb?: (err: Error | undefined, client?: PgClient & { release(err?: unknown): void }) => void): Promise<PgClient & { release(err?: unknown): void }> | undefined;
  end(): Promise<void>;
}
export interface Pg {
  Client: new (config?: unknown) => PgClient;
  Pool: new (config?: unknown) => PgPool;
}

/** `require('pg')`: the hooks of whatever instrumentation exists at that moment patch it. */
export const loadPg = (): Pg => require('pg') as Pg;

/** Judged from 3 calls, opens at half of them failing, open 300 ms, one good probe closes it. */
export const PG_BREAKER: BreakerOptions = Object.freeze({
  minimumRequests: 3,
  windowSize: 6,
  failureThreshold: 0.5,
  resetTimeout: 300,
  backoffMultiplier: 1,
  jitter: 0,
  halfOpenRequestLimit: 1,
  halfOpenSuccessThreshold: 1,
});

/** Client options through `proxy`: every call bounded by pg's own timeouts. */
export function pgOptions(proxy: FaultProxy, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { host: '127.0.0.1', port: proxy.port, database: 'test', user: 'postgres', connectionTimeoutMillis: 1_500, query_timeout: 1_500, ...extra };
}

export const breakerName = (proxy: FaultProxy, db = 'test') => `postgresql://127.0.0.1:${proxy.port}/${db}`;

export const startProxy = () => FaultProxy.start({ upstreamPort: PG_PORT });

/** What a call ended with: the value, or the error it failed with. */
export type Outcome<T = unknown> = { ok: true; value: T } | { ok: false; error: Error & { code?: string; breaker?: string; state?: string } };

/**
 * Awaits a call and returns how it ended; a call still pending after `boundMs` fails the test
 * (every pg call here has a timeout well below it: nothing may hang).
 */
export async function settle<T>(p: Promise<T> | unknown, boundMs = 10_000): Promise<Outcome<T>> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`call still pending after ${boundMs} ms`)), boundMs);
  });
  try {
    const value = (await Promise.race([p as Promise<T>, bound])) as T;
    return { ok: true, value };
  } catch (error) {
    if ((error as Error).message?.startsWith('call still pending')) throw error;
    return { ok: false, error: error as Extract<Outcome, { ok: false }>['error'] };
  } finally {
    clearTimeout(timer);
  }
}

/** `client.query(text, values?, cb)` as a promise of its callback's arguments. */
export function viaCallback(target: { query(...args: unknown[]): unknown }, ...args: unknown[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    target.query(...args, (err: Error | null, res: unknown) => (err ? reject(err) : resolve(res)));
  });
}

/**
 * A minimal pg `Submittable` (the interface pg-cursor and pg-query-stream implement): sends a
 * simple query, collects rows, ends with `'end'` or `'error'`.
 */
export class TinySubmittable extends EventEmitter {
  readonly rows: unknown[][] = [];
  callback?: (err: Error | null, rows?: unknown[][]) => void;
  constructor(readonly text: string) {
    super();
  }
  submit(connection: { query(text: string): void }): void {
    connection.query(this.text);
  }
  handleRowDescription(): void {}
  handleDataRow(msg: { fields: unknown[] }): void {
    this.rows.push(msg.fields);
  }
  handleCommandComplete(): void {}
  handleEmptyQuery(): void {}
  handleReadyForQuery(): void {
    if (this.callback) this.callback(null, this.rows);
    else this.emit('end', this.rows);
  }
  handleError(err: Error): void {
    if (this.callback) this.callback(err);
    else this.emit('error', err);
  }
  /** Resolves with the rows or rejects with the error the submittable got. */
  done(): Promise<unknown[][]> {
    return new Promise((resolve, reject) => {
      this.once('end', resolve);
      this.once('error', reject);
    });
  }
}

/** Lets the event loop turn `n` times (nextTick callbacks and I/O of a refusal run). */
export async function turns(n = 3): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}
