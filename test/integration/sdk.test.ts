import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The service runs as a child process with a stock NodeSDK, as a user's would, against the
// built package (CI builds before testing).
const run = promisify(execFile);
const fixture = path.join(__dirname, '../fixtures/sdk-app.cjs');

interface SpanOut {
  name: string;
  kind: number;
  scope: string;
  spanId: string;
  traceId: string;
  status: number;
  attributes: Record<string, unknown>;
  events: Array<{ name: string; attributes: Record<string, unknown> }>;
  links: string[];
}
interface AppOut {
  origin: string;
  results: { http: Array<Record<string, unknown>>; fetch: Array<Record<string, unknown>> };
  connectionsWhenOpen: number;
  connectionsAfter: number;
  breakers: Array<{ name: string; state: string; failures: number; rejections: number }>;
  metrics: Record<string, Array<{ attributes: Record<string, unknown>; value: number }>>;
  pluginShutDown: boolean;
  addRequestRestored: boolean;
  spans: SpanOut[];
  logs: Array<{ eventName: string; body: string; attributes: Record<string, unknown>; severity: string }>;
}

const quiet = { OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' };

async function runApp(scenario: object, env: Record<string, string> = quiet): Promise<AppOut> {
  const { stdout } = await run(process.execPath, [fixture, JSON.stringify(scenario)], {
    env: { ...process.env, ...env },
    timeout: 30_000,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as AppOut;
}

const clientSpans = (out: AppOut) => out.spans.filter((s) => s.kind === 2);

describe.each(['official-first', 'ours-first'] as const)('with the official http/undici instrumentations constructed %s', (order) => {
  let out: AppOut;
  beforeAll(async () => {
    out = await runApp({ order, userExporter: 'spanProcessors' });
  });

  it('opens the breaker on 5xx and then fails fast without a connection', () => {
    expect(out.results.http.slice(0, 4)).toEqual(Array(4).fill({ status: 503 }));
    for (const r of out.results.http.slice(4)) expect(r).toEqual({ code: 'ECIRCUITOPEN', name: 'CircuitOpenError', open: true });
    for (const r of out.results.fetch) expect(r).toEqual({ name: 'TypeError', causeCode: 'ECIRCUITOPEN', open: true });
    expect(out.connectionsAfter).toBe(out.connectionsWhenOpen);
    expect(out.breakers).toEqual([expect.objectContaining({ name: out.origin, state: 'open', failures: 4, rejections: 5 })]);
  });

  it("keeps the official instrumentation's spans, marking refused calls with error.type and a span event", () => {
    const official = clientSpans(out).filter((s) => s.scope === '@opentelemetry/instrumentation-http');
    // 4 calls that reached the server + 3 refused ones.
    expect(official).toHaveLength(7);
    const refused = official.filter((s) => s.attributes['error.type'] === 'CircuitOpenError');
    expect(refused).toHaveLength(3);
    for (const s of refused) {
      expect(s.status).toBe(2);
      expect(s.events.map((e) => e.name)).toContain('selfheal.breaker.rejected');
      expect(s.events.find((e) => e.name === 'selfheal.breaker.rejected')!.attributes).toMatchObject({
        'selfheal.breaker.name': out.origin,
        'selfheal.breaker.state': 'open',
      });
    }
  });

  it('creates a CLIENT span for a refused fetch, which has no span of its own, without the query string', () => {
    const ours = clientSpans(out).filter((s) => s.scope === 'otel-self-heal');
    expect(ours).toHaveLength(2);
    for (const s of ours) {
      expect(s.attributes).toMatchObject({
        'http.request.method': 'GET',
        'error.type': 'CircuitOpenError',
        'server.address': '127.0.0.1',
        'url.full': `${out.origin}/f`,
      });
      expect(s.events.map((e) => e.name)).toEqual(['selfheal.breaker.rejected']);
    }
  });

  it('records the transition as a span linked to the failed calls, a span event and a log event', () => {
    const transition = out.spans.filter((s) => s.name === 'selfheal.breaker.state_change');
    expect(transition).toHaveLength(1);
    const t = transition[0]!;
    expect(t.attributes).toMatchObject({
      'selfheal.breaker.name': out.origin,
      'selfheal.breaker.state.from': 'closed',
      'selfheal.breaker.state.to': 'open',
      'selfheal.breaker.reason': 'failure-rate',
      'selfheal.breaker.failure_rate': 1,
    });
    const failedCalls = new Set(clientSpans(out).filter((s) => s.attributes['http.response.status_code'] === 503).map((s) => s.spanId));
    expect(t.links.length).toBeGreaterThan(0);
    for (const link of t.links) expect(failedCalls.has(link)).toBe(true);
    // The span event lands on the call whose outcome tripped the breaker.
    const withEvent = out.spans.filter((s) => s.events.some((e) => e.name === 'selfheal.breaker.state_change'));
    expect(withEvent).toHaveLength(1);
    expect(failedCalls.has(withEvent[0]!.spanId)).toBe(true);
    expect(out.logs).toEqual([
      expect.objectContaining({
        eventName: 'selfheal.breaker.state_change',
        severity: 'WARN',
        attributes: expect.objectContaining({ 'selfheal.breaker.state.to': 'open', 'selfheal.breaker.name': out.origin }),
      }),
    ]);
  });

  it('reports selfheal.breaker.state and selfheal.breaker.calls by outcome', () => {
    expect(out.metrics['selfheal.breaker.state']).toEqual([{ attributes: { 'selfheal.breaker.name': out.origin }, value: 2 }]);
    const calls = Object.fromEntries(out.metrics['selfheal.breaker.calls']!.map((p) => [p.attributes['selfheal.outcome'], p.value]));
    expect(calls).toEqual({ success: 0, failure: 4, rejected: 5, fallback: 0 });
  });

  it('unpatches everything when the SDK shuts down', () => {
    expect(out.pluginShutDown).toBe(true);
    expect(out.addRequestRestored).toBe(true);
  });
});

describe("the user's exporters keep working", () => {
  it('a traceExporter passed to NodeSDK still receives spans, ours included', async () => {
    const out = await runApp({ order: 'official-first', userExporter: 'traceExporter' });
    expect(out.spans.some((s) => s.scope === '@opentelemetry/instrumentation-http')).toBe(true);
    expect(out.spans.some((s) => s.name === 'selfheal.breaker.state_change')).toBe(true);
  });

  describe('OTEL_TRACES_EXPORTER=otlp (the default) to a real OTLP/HTTP receiver', () => {
    let receiver: http.Server;
    const posts: Array<{ path: string; body: string }> = [];
    beforeAll(async () => {
      receiver = http.createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          posts.push({ path: req.url ?? '', body });
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        });
      });
      await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    });
    afterAll(() => new Promise<void>((r) => receiver.close(() => r())));

    it('exports the spans NodeSDK would have exported without us, and never trips a breaker on the exporter', async () => {
      const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
      const out = await runApp(
        { order: 'official-first', userExporter: 'env' },
        {
          OTEL_TRACES_EXPORTER: 'otlp',
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
          OTEL_METRICS_EXPORTER: 'none',
          OTEL_LOGS_EXPORTER: 'none',
        },
      );
      const traces = posts.filter((p) => p.path === '/v1/traces');
      expect(traces.length).toBeGreaterThan(0);
      const names = traces.flatMap((p) =>
        (JSON.parse(p.body) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ name: string }> }> }> }).resourceSpans.flatMap((rs) =>
          rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => s.name)),
        ),
      );
      expect(names).toContain('selfheal.breaker.state_change');
      expect(names).toContain('GET');
      // Only the downstream got a breaker, not the collector.
      expect(out.breakers.map((b) => b.name)).toEqual([out.origin]);
    });
  });
});
