import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// `npm run demo` is the README's main command: run it (built package, short run) against a real
// OTLP/HTTP receiver and check what a person would see, and what Jaeger would get.
const root = path.join(__dirname, '../..');

interface Post {
  path: string;
  body: Record<string, unknown>;
}

describe('the demo', () => {
  let receiver: http.Server;
  const posts: Post[] = [];
  let stdout = '';
  let exitCode: number | null = null;

  beforeAll(async () => {
    receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        posts.push({ path: req.url ?? '', body: JSON.parse(body || '{}') as Record<string, unknown> });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => {
      const child = execFile(
        process.execPath,
        ['examples/demo.mjs'],
        {
          cwd: root,
          timeout: 60_000,
          env: {
            ...process.env,
            DEMO_SECONDS: '10',
            OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
            OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
            OTEL_TRACES_EXPORTER: 'otlp',
            OTEL_METRICS_EXPORTER: 'otlp',
            OTEL_LOGS_EXPORTER: 'otlp',
          },
        },
        (_err, out) => {
          stdout = out;
          resolve();
        },
      );
      child.on('exit', (code) => (exitCode = code));
    });
  }, 70_000);

  afterAll(() => new Promise<void>((r) => receiver.close(() => r())));

  it('prints one line per second, the transitions and a summary, and ends by itself', () => {
    expect(exitCode).toBe(0);
    const lines = stdout.split('\n').filter((l) => /^\[\s*\d+s\] requests/.test(l));
    expect(lines).toHaveLength(10);
    // Breaker state / health status of each downstream on every line.
    expect(lines.every((l) => /inventory=(closed|open|half-open)\/(healthy|degraded|critical|failed|unknown)/.test(l))).toBe(true);
    expect(lines.some((l) => /inventory=open\//.test(l) && /fast-failed\s+[1-9]/.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(/inventory=closed\/\w+ pricing=closed\/healthy/);
    expect(stdout).toMatch(/breaker inventory: closed -> open \((failure-rate|health-failed)/);
    expect(stdout).toMatch(/breaker inventory: half-open -> closed \(probes-succeeded/);
    expect(stdout).not.toMatch(/pricing: closed -> open/);
    expect(stdout).not.toMatch(/health  pricing/);
    expect(stdout).toMatch(/Every request settled: true/);
    // The healing: the failure, the action, and the restored state.
    expect(stdout).toMatch(/injected: cache connection lost/);
    expect(stdout).toMatch(/health  cache: healthy -> failed \(cache connection lost\)/);
    expect(stdout).toMatch(/recovery cache: restart \(check-failed: cache connection lost\)/);
    expect(stdout).toMatch(/recovery cache: recovered after restart in \d+ ms/);
    expect(stdout).toMatch(/Cache: connected after 1 automatic reconnect/);
  });

  it('exports the healing to OTLP: the transition spans, their log events and the breaker metrics', () => {
    const spans = posts
      .filter((p) => p.path === '/v1/traces')
      .flatMap((p) => (p.body.resourceSpans as Array<{ scopeSpans: Array<{ spans: Array<{ name: string; links?: unknown[] }> }> }>).flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));
    const transitions = spans.filter((s) => s.name === 'selfheal.breaker.state_change');
    expect(transitions.length).toBeGreaterThanOrEqual(3);
    expect(transitions.some((s) => (s.links ?? []).length > 0)).toBe(true);

    const logs = posts
      .filter((p) => p.path === '/v1/logs')
      .flatMap((p) => (p.body.resourceLogs as Array<{ scopeLogs: Array<{ logRecords: Array<{ eventName?: string }> }> }>).flatMap((r) => r.scopeLogs.flatMap((s) => s.logRecords)));
    expect(logs.filter((l) => l.eventName === 'selfheal.breaker.state_change').length).toBe(transitions.length);

    const metricNames = posts
      .filter((p) => p.path === '/v1/metrics')
      .flatMap((p) => (p.body.resourceMetrics as Array<{ scopeMetrics: Array<{ metrics: Array<{ name: string }> }> }>).flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics.map((m) => m.name))));
    expect(metricNames).toEqual(expect.arrayContaining(['selfheal.breaker.state', 'selfheal.breaker.calls']));
  });
});
