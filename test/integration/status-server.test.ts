import http from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AdaptiveConfigManager } from '../../src/config/adaptive/index.js';
import { ConfigValidationError } from '../../src/config/index.js';
import { HealthSpanProcessor } from '../../src/health/index.js';
import { validateOptions } from '../../src/options.js';
import type { SelfHealing } from '../../src/SelfHealing.js';
import { StatusServer, type StatusSnapshot } from '../../src/status/index.js';
import { cleanup, startDownstream, startPlugin, status, trackTimers, type Downstream } from './downstream.js';

// The status server against a real plugin: real downstreams called with the guarded fetch, the
// status server read with node:http (the plugin here guards fetch only, so these reads are not
// breaker traffic of their own) and raw TCP sockets for what no client would send.
const TOKEN = 'a-status-token-of-32-characters!';
const teardown: Array<() => unknown> = [];
afterEach(async () => {
  for (const t of teardown.splice(0).reverse()) await t();
  await cleanup();
});

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function call(port: number, path: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject).end();
  });
}

/** Bytes over a raw socket; resolves with everything the server sent until it closed. */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const s = net.connect(port, '127.0.0.1', () => s.end(bytes));
    s.setEncoding('latin1').on('data', (c: string) => (out += c));
    s.on('close', () => resolve(out)).on('error', reject);
  });
}

interface Stream {
  res: http.IncomingMessage;
  events: Array<{ event: string; data: any }>;
  next(event: string, match?: (data: any) => boolean, timeoutMs?: number): Promise<any>;
  ended: Promise<void>;
}

/** An SSE client: parses the stream into events as they come. */
function events(port: number, headers: Record<string, string> = {}): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/api/events', headers, agent: false }, (res) => {
      const s: Stream = {
        res,
        events: [],
        ended: new Promise((r) => res.on('close', () => r())),
        next: (event, match = () => true, timeoutMs = 10_000) =>
          poll(() => s.events.find((e) => e.event === event && match(e.data))?.data, timeoutMs, `a "${event}" event`),
      };
      let buf = '';
      res.setEncoding('utf8').on('data', (c: string) => {
        buf += c;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) s.events.push({ event, data: JSON.parse(data) });
        }
      });
      teardown.push(() => res.destroy());
      resolve(s);
    });
    req.on('error', reject);
  });
}

async function poll<T>(read: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000, what = 'the condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function fetchTimes(n: number, url: string): Promise<void> {
  for (let i = 0; i < n; i++) await fetch(url).then((r) => r.arrayBuffer(), () => undefined);
}

/** A plugin guarding fetch, with its status server on a free port. */
async function serve(statusServer: Record<string, unknown> = {}): Promise<{ plugin: SelfHealing; port: number }> {
  const plugin = startPlugin({ http: { node: false }, health: { hysteresis: { toWorsen: 1, toRecover: 1 } }, statusServer: { port: 0, ...statusServer } });
  const url = await plugin.statusServer!.ready;
  return { plugin, port: Number(new URL(url!).port) };
}

const snapshot = async (port: number, headers?: Record<string, string>) => JSON.parse((await call(port, '/api/status', { headers })).body) as StatusSnapshot;

describe('status server: /api/status', { timeout: 30_000 }, () => {
  it("reports the plugin's breakers, components, recoveries with their trace, configuration and optimizer state", async () => {
    const failing = await startDownstream(status(500));
    const healthy = await startDownstream(status(200));
    const { plugin, port } = await serve();
    const spans = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
    for (const i of plugin.instrumentations) i.setTracerProvider(provider);
    teardown.push(() => provider.shutdown());

    await fetchTimes(6, failing.url);
    await fetchTimes(3, healthy.url);
    const cache = { connected: false };
    const checkCache = async () => (cache.connected ? ({ kind: 'healthy' } as const) : ({ kind: 'failed', reason: 'cache connection lost' } as const));
    plugin.recovery.register({ name: 'cache', restart: async () => void (cache.connected = true), checkHealth: checkCache });
    plugin.health.addCheck('cache', checkCache, { intervalMs: 100 });

    const s = await poll(async () => {
      const s = await snapshot(port);
      return s.recoveries[0]?.outcome === 'recovered' && s.system.ready ? s : undefined;
    }, 15_000, 'the cache to be recovered and the service ready again');
    expect(s.breakers.map((b) => [b.name, b.state])).toEqual([
      [failing.origin, 'open'],
      [healthy.origin, 'closed'],
    ]);
    const open = s.breakers[0]!;
    expect(open).toMatchObject({ failureRate: 1, failures: 4, successes: 0 });
    expect(open.calls).toBe(4);
    expect(open.rejections).toBe(2);
    expect(open.retryAt).toBeGreaterThan(s.timestamp - 60_000);
    expect(s.breakers[1]).toMatchObject({ failureRate: 0, successes: 3, calls: 3, retryAt: null });
    expect(s.breakersTotal).toBe(2);

    const r = s.recoveries[0]!;
    expect(r).toMatchObject({ component: 'cache', trigger: 'health', cause: 'failed: cache connection lost', outcome: 'recovered', sampled: true });
    expect(r.attempts).toEqual([expect.objectContaining({ strategy: 'restart', success: true, rolledBack: false })]);
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
    const root = spans.getFinishedSpans().find((sp) => sp.name === 'selfheal.recovery');
    expect(r.traceId).toBe(root?.spanContext().traceId);

    expect(s.components.find((c) => c.name === 'cache')).toMatchObject({ kind: 'custom' });
    // The open breaker leaves the service degraded, and ready.
    expect(s.system).toEqual({ status: 'degraded', reason: `circuit breaker ${failing.origin} is open`, ready: true, counts: { healthy: 1, degraded: 0, critical: 0, failed: 0 } });
    expect(s.config.parameters['breaker.failureThreshold']).toBe(0.5);
    expect(s.config.parameters['breaker.resetTimeout']).toBe(150);
    expect(s.config.version).toBeGreaterThanOrEqual(1);
    expect(s.optimizer).toEqual({ running: false });

    const reply = await call(port, '/api/status');
    expect(reply.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(reply.headers['cache-control']).toBe('no-store');
    expect(reply.headers['x-content-type-options']).toBe('nosniff');
    expect(reply.headers['content-security-policy']).toContain("default-src 'none'");
  });

  it('never shows a sensitive configuration value: not in the JSON, the page or the event stream', async () => {
    const { plugin } = await serve();
    const config = new AdaptiveConfigManager({
      initial: { 'db.password': 'hunter2-very-secret', 'service.apiToken': 'tok-abcdef-123456', 'pool.size': 4 },
      constraints: { 'db.password': { schema: z.string(), sensitive: true }, 'service.apiToken': z.string(), 'pool.size': z.number().int() },
    });
    const server = new StatusServer({ port: 0, host: '127.0.0.1', token: undefined, jaegerUrl: undefined, recent: 10 }, { ...pluginParts(plugin), config });
    teardown.push(() => server.close());
    const port = Number(new URL((await server.ready)!).port);
    const stream = await events(port);

    const json = await call(port, '/api/status');
    expect(JSON.parse(json.body).config.parameters).toEqual({ 'db.password': '[redacted]', 'pool.size': 4, 'service.apiToken': '[redacted]' });
    const page = await call(port, '/');
    config.applyChange({ kind: 'update', key: 'db.password', value: 'rotated-secret-value' });
    const changed = await stream.next('config', (d) => d.version === 2);
    expect(changed.parameters['db.password']).toBe('[redacted]');
    for (const text of [json.body, page.body, JSON.stringify(stream.events)]) {
      expect(text).not.toMatch(/hunter2|tok-abcdef|rotated-secret/);
    }
  });
});

function pluginParts(p: SelfHealing) {
  return { breakers: p.breakers, health: p.health, recovery: p.recovery, config: p.config };
}

describe('status server: its own traffic', () => {
  it("makes no SERVER span under the official http instrumentation, so the page is not one of the service's routes", async () => {
    const { plugin, port } = await serve();
    const spans = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new HealthSpanProcessor(plugin.health, () => plugin.shutdown()), new SimpleSpanProcessor(spans)] });
    const official = new HttpInstrumentation();
    official.setTracerProvider(provider);
    // Its require hook patches http.Server.prototype.emit (shared with the ESM import) when an
    // app requires node:http after sdk.start(); as here.
    createRequire(import.meta.url)('node:http');
    teardown.push(() => provider.shutdown(), () => official.disable());
    // The control: an ordinary server of the service gets its SERVER span.
    const app = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    teardown.push(() => new Promise((r) => app.close(r)));
    await call((app.address() as net.AddressInfo).port, '/orders');
    await call(port, '/api/status');
    await call(port, '/');
    const stream = await events(port);
    await stream.next('snapshot');
    stream.res.destroy();
    const servers = () => spans.getFinishedSpans().filter((sp) => sp.kind === 1 /* SERVER */);
    await poll(() => servers().length >= 1, 5_000, 'the control SERVER span');
    expect(servers().map((sp) => sp.attributes['url.path'] ?? sp.attributes['http.target'])).toEqual(['/orders']);
    expect(plugin.health.list().filter((c) => c.kind === 'route').map((c) => c.name)).not.toContainEqual(expect.stringMatching(/api|events|status/));
  });
});

describe('status server: access', () => {
  it('with a token, refuses every route but /healthz without it or with a wrong one', async () => {
    const { port } = await serve({ token: TOKEN });
    expect((await call(port, '/healthz')).status).toBe(200);
    for (const path of ['/', '/readyz', '/api/status', '/api/events']) {
      const none = await call(port, path);
      expect(none.status, path).toBe(401);
      expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
      expect((await call(port, path, { headers: { authorization: 'Bearer not-the-token-at-all-no' } })).status, path).toBe(401);
      expect(none.body).not.toContain(TOKEN);
    }
    const ok = await call(port, '/api/status', { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    const stream = await events(port, { authorization: `Bearer ${TOKEN}` });
    expect(stream.res.statusCode).toBe(200);
    expect(stream.res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(await stream.next('snapshot')).toHaveProperty('breakers');
  });

  it('a browser trades ?token= for an HttpOnly SameSite=Strict cookie and a URL without the token', async () => {
    const { port } = await serve({ token: TOKEN });
    const first = await call(port, `/?token=${encodeURIComponent(TOKEN)}`);
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe('/');
    const setCookie = first.headers['set-cookie']![0]!;
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).not.toContain(TOKEN);
    const cookie = setCookie.split(';')[0]!;
    expect((await call(port, '/', { headers: { cookie } })).status).toBe(200);
    expect((await call(port, '/api/status', { headers: { cookie } })).status).toBe(200);
    expect((await events(port, { cookie })).res.statusCode).toBe(200);

    const wrong = await call(port, '/?token=not-the-right-token-xxxxx');
    expect(wrong.status).toBe(401);
    expect(wrong.headers['set-cookie']).toBeUndefined();
    expect((await call(port, `/api/status?token=${encodeURIComponent(TOKEN)}`)).status).toBe(401);
    expect((await call(port, '/api/status', { headers: { cookie: `${cookie.split('=')[0]}=forged` } })).status).toBe(401);
  });
});

describe('status server: bad input', () => {
  it('answers malformed requests with 4xx, escapes names in the page, and keeps serving', async () => {
    const { plugin, port } = await serve();
    expect((await call(port, '/api/status', { method: 'POST' })).status).toBe(405);
    expect((await call(port, '/api/status', { method: 'POST' })).headers.allow).toBe('GET');
    expect((await call(port, '/', { method: 'HEAD' })).status).toBe(405);
    expect((await call(port, '/healthz', { method: 'DELETE' })).status).toBe(405);
    expect((await call(port, '/nope')).status).toBe(404);
    expect((await call(port, '/api/status/../status')).status).toBe(404);
    expect((await call(port, `/api/status?${'x'.repeat(3000)}`)).status).toBe(414);
    expect(await raw(port, `GET / HTTP/1.1\r\nhost: 127.0.0.1\r\nx-big: ${'y'.repeat(10_000)}\r\n\r\n`)).toMatch(/^HTTP\/1\.1 431 /);
    expect(await raw(port, 'GET http://example.com/api/status HTTP/1.1\r\nhost: example.com\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /);
    expect(await raw(port, '\u0000\u0001\u00ffgarbage\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /);
    expect(await raw(port, 'GET / HTTP/1.1\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /); // no Host
    // DNS rebinding: a page on another name that resolves to 127.0.0.1 is refused.
    expect((await call(port, '/api/status', { headers: { host: `evil.example:${port}` } })).status).toBe(403);

    const xss = 'http://x/"><img src=x onerror=alert(1)><script>alert(2)</script>';
    plugin.breakers.get(xss);
    const page = await call(port, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toMatch(/script-src 'sha256-[^']+'/);
    expect(page.body).not.toContain('<img src=x');
    expect(page.body).not.toContain('<script>alert');
    expect(page.body).toContain('\\u003cimg src=x onerror=alert(1)\\u003e');
    expect((await snapshot(port)).breakers.map((b) => b.name)).toContain(xss);
    expect((await call(port, '/healthz')).status).toBe(200);
  });
});

describe('status server: readiness', () => {
  it("stays ready while a downstream's breaker is open; is not ready when the service's own component fails", async () => {
    const down = await startDownstream(status(503));
    const { plugin, port } = await serve();
    await fetchTimes(5, down.url);
    expect(plugin.breakers.find(down.origin)?.peekState()).toBe('open');
    plugin.health.report(down.origin, { kind: 'failed', reason: 'refused' }, 'downstream');
    const ready = await call(port, '/readyz');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toMatchObject({ ready: true });

    plugin.health.report('queue', { kind: 'failed', reason: 'consumer stuck' });
    const unready = await call(port, '/readyz');
    expect(unready.status).toBe(503);
    expect(JSON.parse(unready.body)).toEqual({ ready: false, status: 'failed', reason: 'queue: consumer stuck' });
  });
});

describe('status server: events and lifecycle', { timeout: 30_000 }, () => {
  it('pushes breaker, health and recovery changes as they happen, and a snapshot every few seconds', async () => {
    const down: Downstream = await startDownstream(status(500));
    const { plugin, port } = await serve();
    const stream = await events(port);
    expect(stream.res.headers['cache-control']).toBe('no-store');
    await stream.next('snapshot');
    await fetchTimes(4, down.url);
    const opened = await stream.next('breaker', (d) => d.change.to === 'open');
    expect(opened).toMatchObject({ change: { name: down.origin, from: 'closed', reason: 'failure-rate' }, breaker: { state: 'open', failureRate: 1 } });
    plugin.health.report('queue', { kind: 'critical', reason: 'backlog' });
    expect(await stream.next('health', (d) => d.component?.name === 'queue')).toMatchObject({ component: { status: 'critical', reason: 'backlog' }, system: { status: 'critical' } });
    // Registering a component that is critical now sets its recovery off.
    plugin.recovery.register({ name: 'queue', restart: async () => void plugin.health.report('queue', { kind: 'healthy' }) });
    expect(await stream.next('recovery', (d) => d.outcome === 'running')).toMatchObject({ component: 'queue', cause: 'critical: backlog', attempts: [] });
    const done = await stream.next('recovery', (d) => d.outcome === 'recovered');
    expect(done.attempts).toEqual([expect.objectContaining({ strategy: 'restart', success: true })]);
    await poll(() => stream.events.filter((e) => e.event === 'snapshot').length >= 2, 8_000, 'a periodic snapshot');
  });

  it("shutdown() of the plugin ends every event stream and closes the server", async () => {
    const { plugin, port } = await serve();
    const a = await events(port);
    const b = await events(port);
    await a.next('snapshot');
    await plugin.shutdown();
    await Promise.all([a.ended, b.ended]);
    await expect(call(port, '/healthz')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('a port in use is reported through diag and the service runs on without its page', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    teardown.push(() => new Promise((r) => blocker.close(r)));
    const errors: string[] = [];
    diag.setLogger({ error: (m) => errors.push(m), warn() {}, info() {}, debug() {}, verbose() {} }, DiagLogLevel.ERROR);
    teardown.push(() => diag.disable());
    const healthy = await startDownstream(status(200));
    const plugin = startPlugin({ http: { node: false }, statusServer: { port: (blocker.address() as net.AddressInfo).port } });
    expect(await plugin.statusServer!.ready).toBeUndefined();
    expect(plugin.statusServer!.url).toBeUndefined();
    expect((plugin.statusServer!.error as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
    expect(errors.join('\n')).toMatch(/status server could not listen on 127\.0\.0\.1:\d+ \(the port is in use: set statusServer\.port/);
    expect((await fetch(healthy.url)).status).toBe(200);
    expect(plugin.breakers.find(healthy.origin)?.peekState()).toBe('closed');
  });

  it('keeps nothing alive: server, connections and timers are unref\'ed', async () => {
    const tcp = () => process.getActiveResourcesInfo().filter((r) => r.startsWith('TCP')).length;
    // Sockets of earlier tests may still be closing: start from a count that holds still.
    let before = -1;
    await poll(async () => {
      const n = tcp();
      await new Promise((r) => setTimeout(r, 300));
      return n === tcp() ? ((before = n), true) : undefined;
    }, 8_000, 'a steady count of TCP handles');
    const timers = trackTimers();
    const { plugin, port } = await serve();
    const stream = await events(port);
    stream.res.socket.unref(); // our client's end; the server's end is the plugin's
    await poll(() => stream.events.filter((e) => e.event === 'snapshot').length >= 2, 8_000, 'a periodic snapshot');
    expect(tcp()).toBe(before);
    expect(timers.stop()).toEqual([]); // the snapshot timer runs, unref'ed
    await plugin.shutdown();
  });
});

describe('status server: options', () => {
  it('refuses bad statusServer options with errors that name the field, and never repeat a token', () => {
    const error = (statusServer: unknown) => {
      try {
        validateOptions({ statusServer });
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigValidationError);
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(error({ port: 70_000 })).toMatch(/^statusServer\.port must be a whole number from 0 to 65535/);
    expect(error({ port: '80' })).toMatch(/^statusServer\.port must be a port number/);
    expect(error({ token: 'short-secret' })).toMatch(/^statusServer\.token must be at least 16 characters/);
    expect(error({ token: 'short-secret' })).not.toContain('short-secret');
    expect(error({ token: 'has spaces in the token value' })).toMatch(/statusServer\.token must be printable ASCII/);
    expect(error({ jaegerUrl: 'javascript:alert(1)' })).toMatch(/^statusServer\.jaegerUrl must be an http\(s\) URL/);
    expect(error({ recent: 0 })).toMatch(/^statusServer\.recent must be a whole number from 1 to 1000/);
    expect(error({ prt: 1 })).toMatch(/statusServer\.prt is not a known option/);
    expect(error('yes')).toMatch(/^statusServer must be true, false or an object/);
    expect(validateOptions({ statusServer: true }).statusServer).toEqual({});
    expect(startPlugin({ statusServer: false }).statusServer).toBeUndefined();
  });
});
