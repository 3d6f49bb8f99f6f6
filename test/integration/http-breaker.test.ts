import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { build } from 'esbuild';
import { afterEach, describe, expect, it } from 'vitest';
import { CircuitOpenError, isCircuitOpenError, type StateChange } from '../../src/breaker/index.js';
import {
  activeTimeouts,
  cleanup,
  freePort,
  hang,
  pastResetTimeout,
  reset,
  slow,
  sleep,
  startDownstream,
  startPlugin,
  status,
  trackTimers,
  type Downstream,
} from './downstream.js';

/** The choke point the instrumentation patches (not in @types/node). */
const addRequest = () => (http.Agent.prototype as unknown as { addRequest: unknown }).addRequest;
// Taken before any plugin exists: each test file runs in its own process.
const ORIGINAL_ADD_REQUEST = addRequest();

/** A request error as the tests read it: Node's `code`, and a CircuitOpenError's `breaker`. */
type RequestError = Error & { code?: string; breaker?: string; state?: string };
type Outcome = { status: number; error?: undefined } | { status?: undefined; error: RequestError };

/** One GET through `http.get`, the body read to the end; resolves with the status or the request's error. */
function get(url: string, options: http.RequestOptions = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = http.get(url, options, (res) => {
      res.resume();
      res.on('close', () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.on('error', (error) => resolve({ error }));
  });
}

async function getMany(n: number, url: string, options: http.RequestOptions = {}): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for (let i = 0; i < n; i++) out.push(await get(url, options));
  return out;
}

/** Trips the breaker of `d` with 500s (QUICK_BREAKER judges from 4 calls). */
async function trip(d: Downstream): Promise<void> {
  d.behave(status(500));
  await getMany(4, d.url);
}

afterEach(cleanup);

describe('node:http breaker: tripping', () => {
  it('opens after minimumRequests 5xx responses, then fails fast with ECIRCUITOPEN and opens no connection', async () => {
    const plugin = startPlugin();
    const d = await startDownstream(status(500));

    const first = await getMany(4, d.url);
    expect(first.map((o) => o.status)).toEqual([500, 500, 500, 500]);
    const breaker = plugin.breakers.find(d.origin)!;
    expect(breaker.state).toBe('open');
    expect(breaker.failures).toBe(4);
    const { connections, requests } = d;

    const events: string[] = [];
    const err = await new Promise<Error>((resolve) => {
      const req = http.get(d.url, () => resolve(new Error('got a response')));
      req.on('error', (e) => {
        events.push('error');
        resolve(e);
      });
      req.on('close', () => events.push('close'));
    });
    await sleep(0);
    expect(err).toBeInstanceOf(CircuitOpenError);
    expect(isCircuitOpenError(err)).toBe(true);
    expect((err as CircuitOpenError).code).toBe('ECIRCUITOPEN');
    expect((err as CircuitOpenError).breaker).toBe(`http://127.0.0.1:${d.port}`);
    expect((err as CircuitOpenError).state).toBe('open');
    expect(events).toEqual(['error', 'close']);

    const more = await getMany(3, d.url, { method: 'GET' });
    expect(more.every((o) => o.error?.code === 'ECIRCUITOPEN')).toBe(true);
    await new Promise<void>((resolve) => {
      const req = http.request(d.url, { method: 'POST' }, () => resolve());
      req.on('error', (e) => {
        expect(isCircuitOpenError(e)).toBe(true);
        resolve();
      });
      req.end('body');
    });

    expect(d.connections).toBe(connections);
    expect(d.requests).toBe(requests);
    expect(breaker.rejections).toBe(5);
  });

  it('fails fast without writing to a warm keep-alive socket', async () => {
    const plugin = startPlugin();
    const d = await startDownstream(status(500), { keepAlive: true });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      await getMany(4, d.url, { agent });
      expect(d.connections).toBe(1);
      expect(Object.values(agent.freeSockets).flat()).toHaveLength(1);
      expect(plugin.breakers.find(d.origin)!.state).toBe('open');

      const outcomes = await getMany(3, d.url, { agent });
      expect(outcomes.every((o) => o.error?.code === 'ECIRCUITOPEN')).toBe(true);
      expect(d.requests).toBe(4);
      expect(d.connections).toBe(1);
    } finally {
      agent.destroy();
    }
  });

  it('counts a refused connection as a failure and trips', async () => {
    const plugin = startPlugin();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/`;

    const refused = await getMany(4, url);
    expect(refused.map((o) => o.error?.code)).toEqual(['ECONNREFUSED', 'ECONNREFUSED', 'ECONNREFUSED', 'ECONNREFUSED']);
    const breaker = plugin.breakers.find(`http://127.0.0.1:${port}`)!;
    expect(breaker.failures).toBe(4);
    expect(breaker.state).toBe('open');
    expect((await get(url)).error?.code).toBe('ECIRCUITOPEN');
  });

  it('counts a connection reset mid-request as a failure and trips', async () => {
    const plugin = startPlugin();
    const d = await startDownstream(reset);

    const outcomes = await getMany(4, d.url);
    expect(outcomes.every((o) => o.error?.code === 'ECONNRESET')).toBe(true);
    expect(d.requests).toBe(4);
    const breaker = plugin.breakers.find(d.origin)!;
    expect(breaker.failures).toBe(4);
    expect(breaker.state).toBe('open');
    expect((await get(d.url)).error?.code).toBe('ECIRCUITOPEN');
    expect(d.requests).toBe(4);
  });

  it('trips on slow responses when slowCallRateThreshold is below 1', async () => {
    const plugin = startPlugin({ breaker: { slowCallRateThreshold: 0.5, slowCallDurationThreshold: 30 } });
    const d = await startDownstream(slow(80));
    const changes: StateChange[] = [];
    plugin.breakers.onStateChange((c) => changes.push(c));

    const outcomes = await getMany(4, d.url);
    expect(outcomes.map((o) => o.status)).toEqual([200, 200, 200, 200]);
    const breaker = plugin.breakers.find(d.origin)!;
    expect(breaker.successes).toBe(4);
    expect(breaker.failures).toBe(0);
    expect(breaker.state).toBe('open');
    expect(changes.map((c) => c.reason)).toEqual(['slow-call-rate']);
    expect((await get(d.url)).error?.code).toBe('ECIRCUITOPEN');
  });
});

describe('node:http breaker: what counts as a failure', () => {
  it('never trips on 4xx by default', async () => {
    const plugin = startPlugin();
    const d = await startDownstream((_req, res, n) => {
      res.statusCode = [400, 401, 404, 429][n % 4]!;
      res.end();
    });

    const outcomes = await getMany(12, d.url);
    expect(outcomes.every((o) => o.status !== undefined && o.status >= 400 && o.status < 500)).toBe(true);
    const breaker = plugin.breakers.find(d.origin)!;
    expect(breaker.state).toBe('closed');
    expect(breaker.failures).toBe(0);
    expect(breaker.successes).toBe(12);
    expect(d.requests).toBe(12);
  });

  it('trips on 429 when failureStatusCodes lists it, and then not on 5xx', async () => {
    const plugin = startPlugin({ http: { failureStatusCodes: [429] } });
    const limited = await startDownstream(status(429));
    const broken = await startDownstream(status(503));

    await getMany(4, limited.url);
    expect(plugin.breakers.find(limited.origin)!.state).toBe('open');
    expect((await get(limited.url)).error?.code).toBe('ECIRCUITOPEN');

    const outcomes = await getMany(6, broken.url);
    expect(outcomes.map((o) => o.status)).toEqual([503, 503, 503, 503, 503, 503]);
    expect(plugin.breakers.find(broken.origin)!.state).toBe('closed');
  });

  it('lets isFailure override the status-code rule, and hands it the destination', async () => {
    const seen: string[] = [];
    const plugin = startPlugin({
      http: {
        isFailure: (o) => {
          seen.push(o.destination.origin);
          return o.kind === 'error' || o.statusCode === 404;
        },
      },
    });
    const missing = await startDownstream(status(404));
    const broken = await startDownstream(status(500));

    await getMany(4, missing.url);
    expect(plugin.breakers.find(missing.origin)!.state).toBe('open');
    await getMany(6, broken.url);
    expect(plugin.breakers.find(broken.origin)!.state).toBe('closed');
    expect(new Set(seen)).toEqual(new Set([missing.origin, broken.origin]));
  });
});

describe('node:http breaker: recovery', () => {
  it('goes half-open after resetTimeout, closes on good probes, and lets requests through again', async () => {
    const plugin = startPlugin();
    const d = await startDownstream();
    const changes: string[] = [];
    plugin.breakers.onStateChange((c) => changes.push(`${c.from}->${c.to}`));

    await trip(d);
    expect((await get(d.url)).error?.code).toBe('ECIRCUITOPEN');
    d.behave(status(200));
    await pastResetTimeout();

    const breaker = plugin.breakers.find(d.origin)!;
    expect(breaker.state).toBe('half-open');
    const probes = await getMany(2, d.url);
    expect(probes.map((o) => o.status)).toEqual([200, 200]);
    expect(breaker.state).toBe('closed');
    expect(changes).toEqual(['closed->open', 'open->half-open', 'half-open->closed']);

    const after = await getMany(5, d.url);
    expect(after.map((o) => o.status)).toEqual([200, 200, 200, 200, 200]);
  });

  it('re-opens when the probes fail', async () => {
    const plugin = startPlugin();
    const d = await startDownstream();
    await trip(d);
    await pastResetTimeout();

    const probe = await get(d.url);
    expect(probe.status).toBe(500);
    expect(plugin.breakers.find(d.origin)!.state).toBe('open');
    const requests = d.requests;
    expect((await get(d.url)).error?.code).toBe('ECIRCUITOPEN');
    expect(d.requests).toBe(requests);
  });
});

describe('node:http breaker: what is not guarded', () => {
  const forms: Array<[string, (d: Downstream) => string | RegExp]> = [
    ['an exact origin', (d) => `http://127.0.0.1:${d.port}`],
    ['an origin with a path and trailing slash', (d) => `http://127.0.0.1:${d.port}/some/path`],
    ['a host name', () => '127.0.0.1'],
    ['a RegExp on the origin', (d) => new RegExp(`:${d.port}$`)],
  ];

  it.each(forms)('never puts a destination ignored by %s behind a breaker', async (_form, entry) => {
    const d = await startDownstream(status(500));
    const plugin = startPlugin({ http: { ignore: [entry(d)] } });

    const outcomes = await getMany(8, d.url);
    expect(outcomes.every((o) => o.status === 500)).toBe(true);
    expect(d.requests).toBe(8);
    expect(plugin.breakers.find(d.origin)).toBeUndefined();
    expect(plugin.breakers.size).toBe(0);
  });

  it('still guards destinations the ignore list does not match', async () => {
    const ignored = await startDownstream(status(500));
    const guarded = await startDownstream(status(500));
    const plugin = startPlugin({ http: { ignore: [new RegExp(`:${ignored.port}$`)] } });

    await getMany(4, guarded.url);
    expect(plugin.breakers.find(guarded.origin)!.state).toBe('open');
    await getMany(6, ignored.url);
    expect(ignored.requests).toBe(6);
  });

  it('does not guard requests made while tracing is suppressed', async () => {
    const manager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(manager);
    try {
      const plugin = startPlugin();
      const quiet = await startDownstream(status(500));
      const outcomes = await context.with(suppressTracing(context.active()), () => getMany(8, quiet.url));
      expect(outcomes.every((o) => o.status === 500)).toBe(true);
      expect(plugin.breakers.find(quiet.origin)).toBeUndefined();

      // Even an open breaker lets the SDK's own (suppressed) requests through.
      const d = await startDownstream();
      await trip(d);
      expect((await get(d.url)).error?.code).toBe('ECIRCUITOPEN');
      const requests = d.requests;
      const suppressed = await context.with(suppressTracing(context.active()), () => get(d.url));
      expect(suppressed.status).toBe(500);
      expect(d.requests).toBe(requests + 1);
    } finally {
      context.disable();
    }
  });
});

describe('node:http breaker: breaker names', () => {
  it('keys the breaker by origin, never with credentials', async () => {
    const plugin = startPlugin();
    const d = await startDownstream(status(500));
    const url = `http://user:s3cret@127.0.0.1:${d.port}/private?token=abc`;

    await getMany(4, url);
    expect(plugin.breakers.list().map((b) => b.name)).toEqual([`http://127.0.0.1:${d.port}`]);
    const rejected = await get(url);
    expect(rejected.error?.breaker).toBe(`http://127.0.0.1:${d.port}`);
    expect(rejected.error?.message).not.toMatch(/user|s3cret|token/);
  });
});

describe('node:http breaker: leaves Node semantics alone', () => {
  it('lets Node dump a response nobody listens for, freeing the socket', async () => {
    startPlugin();
    // A body far larger than socket buffers: unless the client drains it, the socket stays busy.
    const big = Buffer.alloc(4 * 1024 * 1024, 'x');
    const d = await startDownstream((_req, res) => res.end(big), { keepAlive: true });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const unread = http.get(d.url, { agent }); // no callback, never read
      unread.on('error', () => {});
      const next = await get(d.url, { agent });
      expect(next.status).toBe(200);
      expect(d.requests).toBe(2);
      expect(d.connections).toBe(1);
    } finally {
      agent.destroy();
    }
  });

  it('lets a response without a callback complete and its connection close', async () => {
    startPlugin();
    const d = await startDownstream((_req, res) => res.end(Buffer.alloc(1024 * 1024, 'x')));
    http.get(d.url).on('error', () => {});
    await expect.poll(() => d.closedConnections, { timeout: 5_000 }).toBe(1);
  });

  it('adds no listener to the request', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/`;
    const names = (req: http.ClientRequest) =>
      Object.fromEntries(['error', 'response', 'close', 'socket', 'finish'].map((e) => [e, req.listenerCount(e)]));

    const plain = http.get(url);
    const without = names(plain);
    plain.on('error', () => {});

    const plugin = startPlugin();
    const guarded = http.get(url);
    expect(names(guarded)).toEqual(without);
    expect(guarded.listenerCount('error')).toBe(0);
    await new Promise((resolve) => guarded.on('error', resolve));
    expect(plugin.breakers.find(`http://127.0.0.1:${port}`)!.failures).toBe(1);
  });

  it('lets a request error nobody handles crash the process, as without the plugin', async () => {
    const port = await freePort();
    const dir = await mkdtemp(join(tmpdir(), 'otel-self-heal-'));
    try {
      const script = join(dir, 'unhandled.mjs');
      await bundleUnhandledScript(script);
      const none = await runNode(script, ['none', String(port)]);
      const closed = await runNode(script, ['closed', String(port)]);
      const open = await runNode(script, ['open', String(port)]);

      expect(none.code).not.toBe(0);
      expect(none.stderr).toMatch(/ECONNREFUSED/);
      expect(closed.code).toBe(none.code);
      expect(closed.stderr).toMatch(/ECONNREFUSED/);
      expect(open.code).toBe(none.code);
      expect(open.stderr).toMatch(/ECIRCUITOPEN/);
      for (const r of [none, closed, open]) expect(r.stdout).not.toMatch(/survived/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('node:http breaker: the caller giving up', () => {
  it("does not count the caller's req.destroy() as a failure", async () => {
    const plugin = startPlugin();
    const d = await startDownstream(hang);

    for (let i = 0; i < 6; i++) {
      const req = http.get(d.url);
      const failed = new Promise<NodeJS.ErrnoException>((resolve) => req.on('error', resolve));
      await d.nextRequest();
      req.destroy();
      // Node reports the caller's destroy as ECONNRESET, like a dropped connection.
      expect((await failed).code).toBe('ECONNRESET');
      expect(plugin.breakers.find(d.origin)!.failures).toBe(0);
    }
    // Destroyed before it even had a socket.
    const early = http.get(d.url);
    early.on('error', () => {});
    early.destroy();
    await new Promise((resolve) => early.on('close', resolve));

    const breaker = plugin.breakers.find(d.origin)!;
    expect(breaker.failures).toBe(0);
    expect(breaker.state).toBe('closed');
  });

  it('counts a destroy in answer to a request timeout as a failure', async () => {
    const plugin = startPlugin();
    const d = await startDownstream(hang);

    for (let i = 0; i < 4; i++) {
      const req = http.get(d.url, { timeout: 20 });
      req.on('timeout', () => req.destroy());
      expect(((await new Promise((resolve) => req.on('error', resolve))) as NodeJS.ErrnoException).code).toBe('ECONNRESET');
    }
    const breaker = plugin.breakers.find(d.origin)!;
    expect(breaker.failures).toBe(4);
    expect(breaker.state).toBe('open');
  });

  it('does not count an aborted signal as a failure', async () => {
    const plugin = startPlugin();
    const d = await startDownstream(hang);

    for (let i = 0; i < 6; i++) {
      const ac = new AbortController();
      const req = http.get(d.url, { signal: ac.signal });
      const failed = new Promise<Error>((resolve) => req.on('error', resolve));
      await d.nextRequest();
      ac.abort();
      expect((await failed).name).toBe('AbortError');
    }
    const breaker = plugin.breakers.find(d.origin)!;
    expect(breaker.failures).toBe(0);
    expect(breaker.state).toBe('closed');
  });

  it('frees the half-open slot of a probe the caller destroys', async () => {
    const plugin = startPlugin();
    const d = await startDownstream();
    await trip(d);
    await pastResetTimeout();

    d.behave(hang);
    for (let i = 0; i < 2; i++) {
      const req = http.get(d.url);
      const failed = new Promise((resolve) => req.on('error', resolve));
      await d.nextRequest();
      req.destroy();
      await failed;
      expect(plugin.breakers.find(d.origin)!.state).toBe('half-open');
    }
    const breaker = plugin.breakers.find(d.origin)!;
    d.behave(status(200));
    expect((await getMany(2, d.url)).map((o) => o.status)).toEqual([200, 200]);
    expect(breaker.state).toBe('closed');
  });
});

describe('node:http breaker: every call settles', () => {
  it('settles each of 200 concurrent requests against a flapping downstream, and the counts add up', async () => {
    const plugin = startPlugin();
    // Healthy and sick in turns of 12 requests; sick answers 500, drops the connection or answers late.
    const d = await startDownstream((req, res, n) => {
      if (Math.floor(n / 12) % 2 === 0) return status(200)(req, res, n);
      return [status(500), reset, slow(20, 503)][n % 3]!(req, res, n);
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const issued = 200;
    let destroyedByUs = 0;
    try {
      const calls = Array.from({ length: issued }, async (_, i) => {
        await sleep((i % 50) * 8 + Math.floor(i / 50) * 3);
        return new Promise<Outcome>((resolve) => {
          const req = http.get(d.url, { agent }, (res) => {
            res.resume();
            res.on('close', () => resolve({ status: res.statusCode ?? 0 }));
          });
          req.on('error', (error) => resolve({ error }));
          if (i % 20 === 7) {
            req.destroy();
            destroyedByUs++;
          }
        });
      });
      const settled = await Promise.allSettled(calls);
      expect(settled).toHaveLength(issued);
      expect(settled.every((s) => s.status === 'fulfilled')).toBe(true);
      const outcomes = settled.map((s) => (s as PromiseFulfilledResult<Outcome>).value);
      const rejected = outcomes.filter((o) => o.error?.code === 'ECIRCUITOPEN').length;
      const destroyedAfterAdmission = outcomes.filter((o, i) => i % 20 === 7 && o.error?.code !== 'ECIRCUITOPEN').length;

      const b = plugin.breakers.find(d.origin)!;
      expect(destroyedByUs).toBe(10);
      expect(b.rejections).toBe(rejected);
      expect(b.rejections).toBeGreaterThan(0);
      expect(b.failures).toBeGreaterThan(0);
      expect(b.successes + b.failures + b.rejections + destroyedAfterAdmission).toBe(issued);

      // No probe slot leaked: once healthy, it closes again.
      d.behave(status(200));
      await pastResetTimeout();
      for (let i = 0; i < 4 && b.state !== 'closed'; i++) await get(d.url, { agent });
      expect(b.state).toBe('closed');
    } finally {
      agent.destroy();
    }
  });
});

describe('node:http breaker: shutdown', () => {
  it('restores Agent.prototype.addRequest and stops guarding', async () => {
    const plugin = startPlugin();
    expect(addRequest()).not.toBe(ORIGINAL_ADD_REQUEST);
    const d = await startDownstream();
    await trip(d);
    expect((await get(d.url)).error?.code).toBe('ECIRCUITOPEN');
    const before = plugin.breakers.find(d.origin)!.toJSON();

    await plugin.shutdown();
    expect(addRequest()).toBe(ORIGINAL_ADD_REQUEST);
    const outcomes = await getMany(6, d.url);
    expect(outcomes.map((o) => o.status)).toEqual([500, 500, 500, 500, 500, 500]);
    expect(d.requests).toBe(10);
    // Nothing after shutdown went through a breaker: the figures are the ones it stopped with.
    expect(plugin.breakers.list().map((b) => b.name)).toEqual([d.origin]);
    expect(plugin.breakers.find(d.origin)!.toJSON()).toEqual(before);
  });

  it('leaves no timer behind', async () => {
    const before = activeTimeouts();
    const timers = trackTimers();
    const plugin = startPlugin({ breaker: { slowCallRateThreshold: 0.5, slowCallDurationThreshold: 10 } });
    const d = await startDownstream(slow(20, 500));
    await getMany(4, d.url);
    expect((await get(d.url)).error?.code).toBe('ECIRCUITOPEN');
    d.behave(status(200));
    await pastResetTimeout();
    await getMany(3, d.url);
    expect(plugin.breakers.find(d.origin)!.state).toBe('closed');

    await plugin.shutdown();
    await d.close();
    expect(timers.stop()).toEqual([]);
    // The runner's own RPC timers come and go; a timer of ours would not.
    await expect.poll(activeTimeouts, { timeout: 2_000 }).toBeLessThanOrEqual(before);
  });
});

/** Bundles a script that issues one request with no 'error' listener (mode none | closed | open). */
async function bundleUnhandledScript(outfile: string): Promise<void> {
  const selfHealing = fileURLToPath(new URL('../../src/SelfHealing.ts', import.meta.url));
  const contents = `
    import http from 'node:http';
    import { SelfHealing } from ${JSON.stringify(selfHealing)};
    const [mode, port] = process.argv.slice(2);
    if (mode !== 'none') {
      const plugin = new SelfHealing({ breaker: { resetTimeout: 60000, jitter: 0 }, officialInstrumentations: false });
      if (mode === 'open') plugin.breakers.get('http://127.0.0.1:' + port).forceOpen();
    }
    http.get('http://127.0.0.1:' + port + '/');
    setTimeout(() => console.log('survived'), 3000);
  `;
  const result = await build({
    stdin: { contents, resolveDir: fileURLToPath(new URL('.', import.meta.url)), loader: 'ts', sourcefile: 'unhandled.ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    logLevel: 'silent',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  await writeFile(outfile, result.outputFiles[0]!.contents);
}

function runNode(script: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script, ...args], { timeout: 15_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}
