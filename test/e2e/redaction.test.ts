import { execFile } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OtlpReceiver, type OtlpSpan } from '../support/otlpReceiver.js';

// What leaves the process is what counts: a service (test/fixtures/redaction-app.cjs, built
// package, stock NodeSDK, the official instrumentations withSelfHealing adds) calls real HTTP
// servers, PostgreSQL, MariaDB and Redis with secrets in URLs, queries, SQL values and Redis
// values, and exports over real OTLP/HTTP to a receiver here. Secrets all contain "s3cr3t" and
// query tokens "tok3n", so a search of every exported byte finds any of them.
const root = path.join(__dirname, '../..');

type Scenario = 'default' | 'keep-query' | 'off';
interface Run {
  receiver: OtlpReceiver;
  ports: { okPort: number; downPort: number; refused: number };
  spans: OtlpSpan[];
}

async function run(scenario: Scenario): Promise<Run> {
  const receiver = await OtlpReceiver.start();
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      ['test/fixtures/redaction-app.cjs'],
      {
        cwd: root,
        timeout: 45_000,
        env: {
          ...process.env,
          REDACTION_SCENARIO: scenario,
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_TRACES_EXPORTER: 'otlp',
          OTEL_LOGS_EXPORTER: 'otlp',
          OTEL_METRICS_EXPORTER: 'none',
        },
      },
      (err, out, errOut) => (err ? reject(new Error(`${scenario}: ${err.message}\n${errOut}`)) : resolve(out)),
    );
  });
  return { receiver, ports: JSON.parse(stdout.trim().split('\n').at(-1)!) as Run['ports'], spans: receiver.spans() };
}

const CLIENT = 3;
const SERVER = 2;
const of = (r: Run, scope: string) => r.spans.filter((s) => s.scope === `@opentelemetry/instrumentation-${scope}`);
const texts = (r: Run, scope: string) => of(r, scope).map((s) => s.attributes['db.query.text']);
const leaks = (r: Run) => [...new Set(r.receiver.raw().match(/[\w:/@.?=-]*(s3cr3t|tok3n)[\w-]*/g) ?? [])];

describe('telemetry never carries secrets', () => {
  const runs = {} as Record<Scenario, Run>;

  beforeAll(async () => {
    const [a, b, c] = await Promise.all((['default', 'keep-query', 'off'] as const).map(run));
    Object.assign(runs, { default: a, 'keep-query': b, off: c });
  }, 60_000);

  afterAll(() => Promise.all(Object.values(runs).map((r) => r.receiver.close())));

  it('exports no credential, query token or SQL or Redis value anywhere (spans, events, links, logs)', () => {
    const r = runs.default;
    expect(r.receiver.rejected).toEqual([]);
    expect(r.spans.length).toBeGreaterThan(30);
    expect(r.receiver.logs().length).toBeGreaterThan(0);
    expect(leaks(r)).toEqual([]);
  });

  it('cuts credentials and query strings out of the official http and undici spans, client and server', () => {
    const { spans, ports } = runs.default;
    const ok = `127.0.0.1:${ports.okPort}`;
    const http = of(runs.default, 'http');
    expect(http.filter((s) => s.kind === CLIENT && String(s.attributes['url.full']).includes(ok)).map((s) => s.attributes['url.full'])).toEqual([
      `http://REDACTED:REDACTED@${ok}/ok`,
      `http://REDACTED:REDACTED@${ok}/ok`,
    ]);
    const servers = http.filter((s) => s.kind === SERVER && s.attributes['server.port'] === ports.okPort);
    expect(servers).toHaveLength(4);
    for (const s of servers) {
      expect(s.attributes['url.path']).toBe('/ok');
      expect(s.attributes).not.toHaveProperty('url.query');
    }
    const undici = of(runs.default, 'undici');
    expect(undici.map((s) => [s.attributes['url.full'], s.attributes['url.query']])).toEqual([
      [`http://${ok}/ok`, undefined],
      [`http://${ok}/ok`, undefined],
    ]);
    expect(spans.every((s) => !('http.url' in s.attributes) && !('http.target' in s.attributes))).toBe(true);
  });

  it('exports refused calls, on their own spans and ours, without the credentials or the query', () => {
    const { spans, ports } = runs.default;
    const refused = spans.filter((s) => s.events.some((e) => e.name === 'selfheal.breaker.rejected'));
    expect(refused).toHaveLength(ports.refused);
    expect(refused.map((s) => [s.scope, s.attributes['url.full']]).sort()).toEqual(
      [
        ['@opentelemetry/instrumentation-http', `http://REDACTED:REDACTED@127.0.0.1:${ports.downPort}/down`],
        ['@opentelemetry/instrumentation-http', `http://REDACTED:REDACTED@127.0.0.1:${ports.downPort}/down`],
        ['otel-self-heal', `http://127.0.0.1:${ports.downPort}/down`],
        ['otel-self-heal', `http://127.0.0.1:${ports.downPort}/down`],
      ].sort(),
    );
  });

  it('masks SQL literals and the values PostgreSQL and MariaDB quote in their errors; parameters stay out', () => {
    const r = runs.default;
    expect(texts(r, 'pg')).toEqual([undefined, 'SELECT $1::text AS v', 'SELECT ? AS v, ? AS n', 'SELECT $1::int AS v']);
    const pgError = of(r, 'pg').find((s) => s.status.code === 2)!;
    expect(pgError.status.message).toBe('invalid input syntax for type integer: "?"');
    expect(texts(r, 'mysql2')).toEqual([
      'SELECT ? AS v',
      'SELECT ? AS v',
      'SELECT ? AS v',
      'SELECT ? AS v, ? AS w',
      'CREATE TEMPORARY TABLE redaction_t (x INT)',
      'SET SESSION sql_mode = ?',
      'INSERT INTO redaction_t VALUES (?)',
    ]);
    const myError = of(r, 'mysql2').find((s) => s.status.code === 2)!;
    expect(myError.status.message).toBe("Incorrect integer value: '?' for column `test`.`redaction_t`.`x` at row 1");
  });

  it('shows Redis commands with their key only: no value, script argument, set member or password', () => {
    const t = texts(runs.default, 'ioredis');
    expect(t).toEqual(
      expect.arrayContaining([
        'auth [1 other arguments]',
        'set redaction:k [1 other arguments]',
        'eval return ARGV[1] [2 other arguments]',
        'sismember redaction:s [1 other arguments]',
        'del redaction:k',
      ]),
    );
  });

  it('keeps query strings, and still hides credentials, when http.captureQueryString is on', () => {
    const r = runs['keep-query'];
    const ok = `127.0.0.1:${r.ports.okPort}`;
    const http = of(r, 'http');
    expect(http.filter((s) => s.kind === CLIENT && String(s.attributes['url.full']).includes(ok)).map((s) => s.attributes['url.full'])).toEqual([
      `http://REDACTED:REDACTED@${ok}/ok?token=tok3n-http`,
      `http://REDACTED:REDACTED@${ok}/ok?token=tok3n-options`,
    ]);
    expect(http.filter((s) => s.kind === SERVER && s.attributes['server.port'] === r.ports.okPort).map((s) => s.attributes['url.query'])).toEqual([
      'token=tok3n-http',
      'token=tok3n-options',
      'token=tok3n-fetch',
      'token=tok3n-undici',
    ]);
    expect(of(r, 'undici').map((s) => s.attributes['url.full'])).toEqual([`http://${ok}/ok?token=tok3n-fetch`, `http://${ok}/ok?token=tok3n-undici`]);
    expect(r.spans.filter((s) => s.scope === 'otel-self-heal' && s.kind === CLIENT).map((s) => s.attributes['url.full'])).toEqual([
      `http://127.0.0.1:${r.ports.downPort}/down?token=tok3n-down-fetch`,
      `http://127.0.0.1:${r.ports.downPort}/down?token=tok3n-down-fetch`,
    ]);
    expect(leaks(r).filter((l) => l.includes('s3cr3t'))).toEqual([]);
  });

  it('with redact: false the same calls do export secrets (what the instrumentations put out on their own)', () => {
    const found = leaks(runs.off).join(' ');
    // Query strings (http, undici), SQL literals (pg, mysql2), values echoed in database errors,
    // and Redis script arguments and set members.
    for (const secret of ['tok3n-http', 'tok3n-fetch', 's3cr3t-pgliteral', 's3cr3t-myliteral', 's3cr3t-pgerror', 's3cr3t-myerror', 's3cr3t-rediseval', 's3cr3t-redismember']) {
      expect(found).toContain(secret);
    }
  });
});
