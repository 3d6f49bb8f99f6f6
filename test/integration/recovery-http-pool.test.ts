import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { HealthMonitor, type HealthStatus } from '../../src/health/index.js';
import { HttpPoolComponent, RecoveryManager, type RecoveryEvents } from '../../src/recovery/index.js';
import { cleanup, startPlugin } from './downstream.js';

/**
 * A keep-alive HTTP server behind a plain TCP listener, so the test can play the failures of a
 * pool: `zombify()` leaves every open connection up but never answers on it again (a peer that
 * hung, or a NAT that forgot the flow: nothing tells the client), and `stopListening()` closes the
 * listener alone (the "process" is gone, its connections are not closed), so that another server
 * can take the port.
 */
interface PoolServer {
  readonly port: number;
  readonly origin: string;
  /** TCP connections accepted so far. */
  readonly connections: number;
  zombify(): void;
  /** From now on, no request is answered, on any connection. */
  hang(): void;
  stopListening(): Promise<void>;
  close(): Promise<void>;
}

const servers: PoolServer[] = [];
const components: HttpPoolComponent[] = [];

async function startServer(body = 'ok', port = 0): Promise<PoolServer> {
  const open = new Set<net.Socket>();
  const zombies = new Set<net.Socket>();
  let connections = 0;
  let hanging = false;
  const app = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    if (hanging || zombies.has(req.socket)) return; // never answered
    res.end(body);
  });
  const listener = net.createServer((socket) => {
    connections++;
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    app.emit('connection', socket);
  });
  await new Promise<void>((resolve) => listener.listen(port, '127.0.0.1', resolve));
  const actual = (listener.address() as AddressInfo).port;
  const s: PoolServer = {
    port: actual,
    origin: `http://127.0.0.1:${actual}`,
    get connections() {
      return connections;
    },
    zombify() {
      for (const socket of open) zombies.add(socket);
    },
    hang() {
      hanging = true;
    },
    // net.Server#close stops listening at once; its callback would wait for every connection.
    stopListening: async () => void listener.close(),
    async close() {
      for (const socket of open) socket.destroy();
      if (listener.listening) listener.close();
    },
  };
  servers.push(s);
  return s;
}

function pool(origin: string): HttpPoolComponent {
  const c = new HttpPoolComponent(origin, { checkTimeoutMs: 1_000 });
  components.push(c);
  return c;
}

afterEach(async () => {
  await cleanup();
  for (const c of components.splice(0)) c.close();
  for (const s of servers.splice(0)) await s.close();
  http.globalAgent.destroy();
});

/** One GET through http.globalAgent (keep-alive in Node 20): the body, or the error code. */
function get(url: string, timeoutMs?: number): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(body));
    });
    if (timeoutMs !== undefined) req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

/** One fetch through the global undici dispatcher: the body, or the error's name. */
async function fetchText(url: string, timeoutMs?: number): Promise<string> {
  try {
    const res = await fetch(url, timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    // undici hands the connection back to its pool a moment after the body ends; a request sent
    // before that would open a second connection, and the test could not say which one it uses.
    await new Promise((r) => setTimeout(r, 10));
    return text;
  } catch (err) {
    return (err as Error).name;
  }
}

const poolName = (port: number) => `127.0.0.1:${port}:`;

describe('HttpPoolComponent: node:http agent', () => {
  it('is named like the health monitor and the breakers name the destination', () => {
    expect(pool('http://127.0.0.1:8080').name).toBe('http://127.0.0.1:8080');
    expect(pool('http://Example.com').name).toBe('http://example.com:80');
    expect(pool('https://example.com/some/path').name).toBe('https://example.com:443');
    expect(() => new HttpPoolComponent('ftp://example.com')).toThrow('httpPool.origin must be an http:// or https:// origin');
    expect(() => new HttpPoolComponent('http://x', { destroyActive: 'yes' as unknown as boolean })).toThrow('httpPool.destroyActive must be true or false');
  });

  it('heals a half-dead idle keep-alive socket: restart destroys it and the next request succeeds on a fresh one', async () => {
    const server = await startServer();
    const c = pool(server.origin);
    expect(await get(`${server.origin}/`)).toBe('ok');
    expect(http.globalAgent.freeSockets[poolName(server.port)]).toHaveLength(1);

    // Without recovery: the pooled socket is reused, and the request hangs on it.
    server.zombify();
    expect(await get(`${server.origin}/`, 300)).toBe('TIMEOUT');
    expect(server.connections).toBe(1);

    // Again, healed this time.
    expect(await get(`${server.origin}/`)).toBe('ok'); // connection 2, pooled
    server.zombify();
    await c.restart(new AbortController().signal);
    expect(c.lastRestart).toMatchObject({ idle: 1, active: 0 });
    expect(http.globalAgent.freeSockets[poolName(server.port)] ?? []).toHaveLength(0);
    expect(await get(`${server.origin}/`, 2_000)).toBe('ok');
    expect(server.connections).toBe(3);
  });

  it('fails a request hung on a dead socket at once instead of leaving it hanging', async () => {
    const server = await startServer();
    const c = pool(server.origin);
    expect(await get(`${server.origin}/`)).toBe('ok');
    server.zombify();
    const hung = get(`${server.origin}/`);
    await new Promise((r) => setTimeout(r, 50));
    await c.restart(new AbortController().signal);
    expect(c.lastRestart).toMatchObject({ idle: 0, active: 1 });
    expect(await hung).toBe('ECONNRESET');
    expect(await get(`${server.origin}/`, 2_000)).toBe('ok');
  });

  it('leaves other origins\' sockets alone', async () => {
    const a = await startServer();
    const b = await startServer();
    expect(await get(`${a.origin}/`)).toBe('ok');
    expect(await get(`${b.origin}/`)).toBe('ok');
    await pool(a.origin).restart(new AbortController().signal);
    expect(http.globalAgent.freeSockets[poolName(a.port)] ?? []).toHaveLength(0);
    expect(http.globalAgent.freeSockets[poolName(b.port)]).toHaveLength(1);
  });

  it('heals after the server was restarted on the same port behind a connection that was never closed', async () => {
    const old = await startServer('old');
    const port = old.port;
    const c = pool(old.origin);
    expect(await get(`${old.origin}/`)).toBe('old');
    old.zombify();
    await old.stopListening();
    const fresh = await startServer('new', port);
    await c.restart(new AbortController().signal);
    expect(await get(`${fresh.origin}/`, 2_000)).toBe('new');
    expect(fresh.connections).toBe(1);
  });
});

describe('HttpPoolComponent: undici (fetch)', () => {
  it('heals a half-dead pooled connection of the global dispatcher', async () => {
    const server = await startServer();
    const c = pool(server.origin); // made before the traffic, so it sees the connections open
    expect(await fetchText(`${server.origin}/`)).toBe('ok');

    server.zombify();
    expect(await fetchText(`${server.origin}/`, 300)).toBe('TimeoutError');
    expect(server.connections).toBe(1);

    // Again, healed this time. (After an aborted request undici may open more than one
    // connection for the next; the count of sockets destroyed is not the point, what follows is.)
    expect(await fetchText(`${server.origin}/`)).toBe('ok');
    server.zombify();
    await c.restart(new AbortController().signal);
    expect(c.lastRestart!.undici).toBeGreaterThanOrEqual(1);
    const before = server.connections;
    expect(await fetchText(`${server.origin}/`, 2_000)).toBe('ok');
    expect(server.connections).toBe(before + 1);
  });
});

describe('HttpPoolComponent: checkHealth', () => {
  it('is healthy when the origin answers, failed when it refuses connections', async () => {
    const server = await startServer();
    const c = pool(server.origin);
    expect(await c.checkHealth!(new AbortController().signal)).toEqual({ kind: 'healthy' });
    await server.close();
    const down = await c.checkHealth!(new AbortController().signal);
    expect(down).toMatchObject({ kind: 'failed', reason: expect.stringContaining('ECONNREFUSED') });
  });

  it('fails at its timeout when the origin does not answer', async () => {
    const server = await startServer();
    server.hang();
    const c = new HttpPoolComponent(server.origin, { checkTimeoutMs: 100 });
    components.push(c);
    const s = await c.checkHealth!(new AbortController().signal);
    expect(s).toMatchObject({ kind: 'failed', reason: expect.stringContaining('timed out after 100 ms') });
  });
});

describe('HttpPoolComponent with the health monitor and the recovery manager', () => {
  it('recovers a half-dead pool from a health failure alone: restart, verified by a fresh check, next call succeeds', async () => {
    const server = await startServer();
    const component = pool(server.origin);
    const health = new HealthMonitor({ hysteresis: { toWorsen: 1, toRecover: 1 } });
    const recovery = new RecoveryManager({ verifyWindowMs: 2_000 });
    recovery.attach(health);
    recovery.register(component);
    recovery.start();
    try {
      expect(await fetchText(`${server.origin}/`)).toBe('ok');
      expect(await get(`${server.origin}/`)).toBe('ok');
      server.zombify();

      let attemptAt = 0;
      const completed = new Promise<RecoveryEvents['recovery-completed']>((resolve) => recovery.on('recovery-completed', resolve));
      recovery.on('attempt-started', () => (attemptAt ||= performance.now()));
      const failed: HealthStatus = { kind: 'failed', reason: 'error rate 100.0% >= failed threshold 50.0%' };
      const detected = performance.now();
      health.report(component.name, failed, 'downstream');
      const done = await completed;
      const doneAt = performance.now();

      expect(done.outcome).toMatchObject({ component: server.origin, outcome: 'recovered', failureType: 'error-rate' });
      expect(done.outcome.attempts).toEqual([expect.objectContaining({ action: 'restart', success: true })]);
      expect(component.lastRestart).toMatchObject({ idle: 1, undici: 1 });
      expect(await fetchText(`${server.origin}/`, 2_000)).toBe('ok');
      expect(await get(`${server.origin}/`, 2_000)).toBe('ok');
      // Figures for the report (budgets: start < 200 ms, restart done < 5 s), not asserted.
      console.info(
        `[recovery] health failed -> attempt-started: ${(attemptAt - detected).toFixed(3)} ms; -> recovered (restart + HTTP check): ${(doneAt - detected).toFixed(1)} ms`,
      );
    } finally {
      await recovery.close();
      health.stop();
    }
  });
});

describe('HttpPoolComponent inside the plugin (breakers on http and fetch, health driving them)', () => {
  it('heals through the wrapped dispatcher, and the breaker health opened lets the next call through at once', async () => {
    const plugin = startPlugin({ recovery: { enabled: false } }); // this test brings its own manager
    const server = await startServer();
    const component = pool(server.origin);
    expect(component.name).toBe(server.origin); // the breaker's and the health component's name
    const recovery = new RecoveryManager({}, { breakers: plugin.breakers });
    recovery.attach(plugin.health);
    recovery.register(component);
    recovery.start();
    try {
      expect(await fetchText(`${server.origin}/`)).toBe('ok');
      expect(await get(`${server.origin}/`)).toBe('ok');
      server.zombify();
      const completed = new Promise<RecoveryEvents['recovery-completed']>((resolve) => recovery.on('recovery-completed', resolve));
      plugin.health.report(component.name, { kind: 'failed', reason: 'error rate 100.0% >= failed threshold 50.0%' }, 'downstream');
      expect(plugin.breakers.get(server.origin).peekState()).toBe('open'); // health drove it open
      const done = await completed;
      expect(done.outcome.outcome).toBe('recovered');
      expect(component.lastRestart).toMatchObject({ idle: 1, undici: 1 });
      // probeNow: the open breaker lets the next call probe now rather than after its reset timeout.
      expect(await fetchText(`${server.origin}/`, 2_000)).toBe('ok');
      expect(await get(`${server.origin}/`, 2_000)).toBe('ok');
    } finally {
      await recovery.close();
    }
  });
});
