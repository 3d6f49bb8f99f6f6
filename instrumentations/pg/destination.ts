/** Where a pg client or pool connects: what pg's `ConnectionParameters` computes. */
export interface PgParameters {
  host?: string;
  port?: number | string;
  database?: string;
}

type ConnectionParametersClass = new (config: unknown) => PgParameters;

/** pg's own `ConnectionParameters`, captured when `pg/lib/connection-parameters.js` loads. */
let ConnectionParameters: ConnectionParametersClass | undefined;

/** Keeps pg's `ConnectionParameters` class (the exports of `pg/lib/connection-parameters.js`). */
export function captureConnectionParameters(exports: unknown): void {
  if (typeof exports === 'function') ConnectionParameters = exports as ConnectionParametersClass;
}

/**
 * Where a pool's clients will connect. pg-pool hands its `options` to every client it creates,
 * so the parameters pg computes from them (connection string, `PGHOST`/`PGPORT`/`PGDATABASE`,
 * pg's defaults) are the pool's destination. May throw on a malformed connection string.
 */
export function poolParameters(options: unknown): PgParameters {
  if (ConnectionParameters) return new ConnectionParameters(options ?? {});
  // pg not loaded through our hooks (pg-pool used with another client): pg's own rules, in short.
  const o = (options ?? {}) as Record<string, unknown>;
  if (typeof o.connectionString === 'string') {
    const url = new URL(o.connectionString);
    return { host: decodeURIComponent(url.hostname), port: url.port || undefined, database: decodeURIComponent(url.pathname.slice(1)) || undefined };
  }
  const env = process.env;
  const user = str(o.user) ?? env.PGUSER ?? env.USER;
  return {
    host: str(o.host) ?? env.PGHOST ?? 'localhost',
    port: (o.port as number | string | undefined) ?? env.PGPORT ?? 5432,
    database: str(o.database) ?? env.PGDATABASE ?? user,
  };
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
