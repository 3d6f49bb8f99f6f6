import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { captureConnectionParameters, poolParameters } from '../../instrumentations/pg/destination.js';

const require = createRequire(import.meta.url);
const ENV = ['PGHOST', 'PGPORT', 'PGDATABASE', 'PGUSER'] as const;
const saved = Object.fromEntries(ENV.map((k) => [k, process.env[k]]));
afterEach(() => {
  for (const k of ENV) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

const CASES: Array<[string, Record<string, unknown>, Partial<Record<(typeof ENV)[number], string>>]> = [
  ['explicit options', { host: 'db.internal', port: 6543, database: 'orders' }, {}],
  ['a connection string (credentials ignored)', { connectionString: 'postgres://app:secret@db.example.com:5433/shop' }, {}],
  ['the environment', {}, { PGHOST: 'env-host', PGPORT: '7000', PGDATABASE: 'envdb' }],
  ['the user as database, as pg defaults it', { user: 'alice' }, {}],
];

describe('pool destinations', () => {
  // Runs first: nothing captured pg's ConnectionParameters yet, so the plugin's own reading applies.
  it.each(CASES)('without pg’s ConnectionParameters, reads %s as pg would', (_label, options, env) => {
    for (const k of ENV) delete process.env[k];
    Object.assign(process.env, env);
    const ours = poolParameters(options);
    const ConnectionParameters = require('pg/lib/connection-parameters.js') as new (c: unknown) => { host: string; port: number; database: string };
    const theirs = new ConnectionParameters(options);
    expect({ host: ours.host, port: Number(ours.port), database: ours.database }).toEqual({ host: theirs.host, port: theirs.port, database: theirs.database });
  });

  it('uses pg’s own ConnectionParameters once captured, and lets a malformed connection string throw', () => {
    captureConnectionParameters(require('pg/lib/connection-parameters.js'));
    expect(poolParameters({ host: 'h', port: '5444', database: 'd' })).toMatchObject({ host: 'h', port: 5444, database: 'd' });
    expect(() => poolParameters({ connectionString: 'postgres://u:p@host:notaport/db' })).toThrow('Invalid URL');
  });
});
