import { createHook } from 'node:async_hooks';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { context } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { ComponentHealthMonitor } from '../../src/health/ComponentHealthMonitor.js';
import { CheckRunner, httpCheck, tcpCheck, type CheckResult, type HealthCheck } from '../../src/health/checks/index.js';
import type { HealthStatus } from '../../src/health/types.js';
import { cleanup, freePort, hang, sleep, startDownstream, startPlugin, status, type Downstream } from './downstream.js';

afterEach(cleanup);

/** Runs a check once with a signal of its own (no runner). */
const once = (check: HealthCheck, signal = new AbortController().signal) => check(signal) as Promise<HealthStatus>;

/** Waits (polling every 5 ms, at most `ms`) until `cond` holds; the test then asserts it. */
async function until(cond: () => boolean, ms = 2_000): Promise<void> {
  for (let waited = 0; !cond() && waited < ms; waited += 5) await sleep(5);
}

/** One GET outside any check, as the application would send it: its status or its error code. */
function get(url: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

const HEALTH_CODE = fileURLToPath(new URL('../../src/health/', import.meta.url));

/** Timers created by src/health from now on (ref'ed or not); `pending()` lists those not yet cleared or fired. */
function trackHealthTimers(): { pending(): number; stop(): void } {
  const live = new Set<number>();
  const hook = createHook({
    init(id, type) {
      if (type !== 'Timeout') return;
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 30;
      const stack = new Error().stack ?? '';
      Error.stackTraceLimit = limit;
      if (stack.includes(HEALTH_CODE)) live.add(id);
    },
    destroy(id) {
      live.delete(id);
    },
  }).enable();
  return { pending: () => live.size, stop: () => hook.disable() };
}

describe('httpCheck against a real server', () => {
  it('is healthy on a 2xx or 3xx answer, sending the method, path and headers asked for', async () => {
    const d = await startDownstream(status(200));
    const request = d.nextRequest();
    expect(await once(httpCheck(`${d.origin}/health`, { method: 'head', headers: { 'x-probe': 'yes' } }))).toEqual({ kind: 'healthy' });
    const req = await request;
    expect([req.method, req.url, req.headers['x-probe']]).toEqual(['HEAD', '/health', 'yes']);

    d.behave((_req, res) => {
      res.writeHead(302, { location: '/elsewhere' }).end();
    });
    expect(await once(httpCheck(d.url))).toEqual({ kind: 'healthy' }); // a redirect is an answer; it is not followed
    expect(d.requests).toBe(2);
  });

  it('fails on a 500, naming method, origin, path and status', async () => {
    const d = await startDownstream(status(500));
    expect(await once(httpCheck(`${d.origin}/health`))).toEqual({ kind: 'failed', reason: `GET ${d.origin}/health answered 500` });
  });

  it('judges by expectStatus when given, a number or a test', async () => {
    const d = await startDownstream(status(204));
    expect((await once(httpCheck(d.url, { expectStatus: 204 }))).kind).toBe('healthy');
    expect((await once(httpCheck(d.url, { expectStatus: 200 }))).kind).toBe('failed');
    d.behave(status(503));
    expect((await once(httpCheck(d.url, { expectStatus: (s) => s < 600 }))).kind).toBe('healthy');
    const throwing = httpCheck(d.url, {
      expectStatus: () => {
        throw new Error('bad predicate');
      },
    });
    expect(await once(throwing)).toEqual({ kind: 'failed', reason: `GET ${d.url}: expectStatus threw: bad predicate` });
  });

  it('fails with the connect error when nothing listens', async () => {
    const port = await freePort();
    expect(await once(httpCheck(`http://127.0.0.1:${port}/health`))).toEqual({
      kind: 'failed',
      reason: `GET http://127.0.0.1:${port}/health: connect ECONNREFUSED 127.0.0.1:${port}`,
    });
  });

  it('opens a connection of its own per check and closes it after the answer', async () => {
    const d = await startDownstream(status(200), { keepAlive: true });
    const check = httpCheck(d.url);
    await once(check);
    await once(check);
    expect(d.connections).toBe(2);
    await until(() => d.closedConnections === 2);
    expect(d.closedConnections).toBe(2);
  });

  it('fails a server slower than the timeout with a timeout reason, and closes the socket', async () => {
    const d = await startDownstream(hang);
    const results: CheckResult[] = [];
    const runner = new CheckRunner(httpCheck(`${d.origin}/health`), (r) => results.push(r), { timeoutMs: 50 });
    const result = await runner.runNow();
    expect(result).toMatchObject({ status: { kind: 'failed', reason: 'health check timed out after 50 ms' }, timedOut: true });
    expect(result.durationMs).toBeGreaterThanOrEqual(49);
    expect(results).toEqual([result]);
    await until(() => d.closedConnections === 1);
    expect([d.connections, d.closedConnections]).toEqual([1, 1]);
  });

  it('gives the abort reason, with the target, when aborted by a signal of the caller', async () => {
    const d = await startDownstream(hang);
    const status = await once(httpCheck(`${d.origin}/health`), AbortSignal.timeout(30));
    expect(status).toEqual({ kind: 'failed', reason: `GET ${d.origin}/health: The operation was aborted due to timeout` });
    await until(() => d.closedConnections === 1);
    expect(d.closedConnections).toBe(1);
    const already = await once(httpCheck(d.url), AbortSignal.abort(new Error('gave up')));
    expect(already).toEqual({ kind: 'failed', reason: `GET ${d.url}: gave up` });
    expect(d.connections).toBe(1); // no request for an aborted signal
  });

  it('sends the URL credentials but never puts them, or the query, in a reason', async () => {
    const d = await startDownstream(status(500));
    const url = (port: number) => `http://probe:s3cret-pw@127.0.0.1:${port}/health?token=abc123&x=1`;
    const request = d.nextRequest();
    const reasons: string[] = [];
    const answered = await once(httpCheck(url(d.port)));
    expect(answered).toEqual({ kind: 'failed', reason: `GET ${d.origin}/health answered 500` });
    expect((await request).headers.authorization).toBe(`Basic ${Buffer.from('probe:s3cret-pw').toString('base64')}`);
    reasons.push(answered.kind === 'healthy' ? '' : answered.reason);

    const refused = await once(httpCheck(url(await freePort())));
    reasons.push(refused.kind === 'healthy' ? '' : refused.reason);
    d.behave(hang);
    const timedOut = await once(httpCheck(url(d.port)), AbortSignal.timeout(20));
    reasons.push(timedOut.kind === 'healthy' ? '' : timedOut.reason);

    expect(reasons.every((r) => r.startsWith('GET http://127.0.0.1:'))).toBe(true);
    for (const secret of ['s3cret', 'probe', 'token', 'abc123', '?', '@']) {
      for (const r of reasons) expect(r).not.toContain(secret);
    }
  });

  it('is not refused by an open circuit breaker, and does not count toward it', async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    try {
      const plugin = startPlugin();
      const d = await startDownstream(status(500));
      for (let i = 0; i < 4; i++) await get(d.url);
      const breaker = plugin.breakers.find(d.origin)!;
      expect(breaker.state).toBe('open');
      expect(await get(d.url)).toBe('ECIRCUITOPEN');

      d.behave(status(200));
      const before = { requests: d.requests, failures: breaker.failures };
      expect(await once(httpCheck(d.url))).toEqual({ kind: 'healthy' });
      expect(d.requests).toBe(before.requests + 1);
      d.behave(status(500));
      expect((await once(httpCheck(d.url))).kind).toBe('failed');
      expect(breaker.failures).toBe(before.failures);
      expect(breaker.state).toBe('open');
    } finally {
      context.disable();
    }
  });
});

describe('tcpCheck against a real listener', () => {
  async function listener(): Promise<{ port: number; accepted: () => number; closed: () => number; close(): Promise<void> }> {
    let accepted = 0;
    let closed = 0;
    const server = net.createServer((socket) => {
      accepted++;
      socket.on('close', () => closed++);
      socket.resume();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return {
      port,
      accepted: () => accepted,
      closed: () => closed,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }

  it('is healthy when the connection is accepted, and closes it at once', async () => {
    const l = await listener();
    try {
      expect(await once(tcpCheck('127.0.0.1', l.port))).toEqual({ kind: 'healthy' });
      await until(() => l.closed() === 1);
      expect([l.accepted(), l.closed()]).toEqual([1, 1]);
    } finally {
      await l.close();
    }
  });

  it('fails with the connect error when nothing listens', async () => {
    const port = await freePort();
    expect(await once(tcpCheck('127.0.0.1', port))).toEqual({
      kind: 'failed',
      reason: `tcp 127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`,
    });
  });

  it('fails with the abort reason when its signal aborts first', async () => {
    const port = await freePort();
    expect(await once(tcpCheck('127.0.0.1', port), AbortSignal.abort(new Error('stopped')))).toEqual({
      kind: 'failed',
      reason: `tcp 127.0.0.1:${port}: stopped`,
    });
  });
});

describe('ComponentHealthMonitor with a real HTTP check', () => {
  it('follows the server from healthy to failed and back, and stop() leaves no timer or socket', async () => {
    const timers = trackHealthTimers();
    try {
      const d: Downstream = await startDownstream(status(200));
      const monitor = new ComponentHealthMonitor('api', httpCheck(`${d.origin}/health`), { intervalMs: 60_000, timeoutMs: 1_000 });
      const levels: string[] = [];
      monitor.onChange((c) => levels.push(`${c.from.kind} -> ${c.to.kind}`));
      await monitor.start();
      expect(monitor.status.kind).toBe('healthy');

      d.behave(status(500));
      await monitor.signal({ kind: 'check-health' });
      expect(monitor.status).toEqual({ kind: 'failed', reason: `GET ${d.origin}/health answered 500` });

      d.behave(status(200));
      for (let i = 0; i < 3; i++) await monitor.signal({ kind: 'check-health' });
      expect(levels).toEqual(['healthy -> failed', 'failed -> healthy']);

      d.behave(hang);
      const inFlight = monitor.signal({ kind: 'check-health' });
      await d.nextRequest();
      await monitor.stop();
      await inFlight;
      await until(() => timers.pending() === 0); // async_hooks reports a cleared timer's destroy a little later
      expect(timers.pending()).toBe(0);
      await until(() => d.closedConnections === d.connections);
      expect(d.closedConnections).toBe(d.connections);
      expect(monitor.healthHistory()).toHaveLength(5); // the check cut off by stop() is not a reading
    } finally {
      timers.stop();
    }
  });
});
