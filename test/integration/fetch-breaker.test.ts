import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { getGlobalDispatcher, request as undiciRequest } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { CircuitOpenError, findCircuitOpenError, isCircuitOpenError, type StateChange } from '../../src/breaker/index.js';
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

// Taken before any plugin exists (each test file runs in its own process). Asking npm undici
// for it installs its Agent, which Node's built-in fetch then uses too, as the plugin would.
const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');
const ORIGINAL_DISPATCHER = getGlobalDispatcher();

/** A fetch rejection as the tests read it: `TypeError: fetch failed` with the reason as `cause`. */
type FetchError = Error & { cause?: Error & { code?: string } };
type Outcome = { status: number; error?: undefined } | { status?: undefined; error: FetchError };

/** One `fetch`, the body read to the end; resolves with the status or the rejection. */
async function get(url: string, init?: RequestInit): Promise<Outcome> {
  try {
    const res = await fetch(url, init);
    await res.arrayBuffer();
    return { status: res.status };
  } catch (error) {
    return { error: error as FetchError };
  }
}

async function getMany(n: number, url: string, init?: RequestInit): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for (let i = 0; i < n; i++) out.push(await get(url, init));
  return out;
}

const causeCode = (o: Outcome) => o.error?.cause?.code;

/** Trips the breaker of `d` with 500s (QUICK_BREAKER judges from 4 calls). */
async function trip(d: Downstream): Promise<void> {
  d.behave(status(500));
  await getMany(4, d.url);
}

afterEach(cleanup);

describe('fetch breaker: tripping', () => {
  it('opens after minimumRequests 5xx responses, then rejects with a CircuitOpenError cause and opens no connection', async () => {
    const plugin = startPlugin();
    const d = await startDownstream(status(500));

    const first = await getMany(4, d.url);
    expect(first.map((o) => o.status)).toEqual([500, 500, 500, 500]);
    const breaker = plugin.breakers.find(d.origin)!;
    expect(breaker.state).toBe('open');
    expect(breaker.failures).toBe(4);
    const { connections, requests } = d;

    const err = await fetch(d.url).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TypeError);
    expect((err as TypeError).message).toBe('fetch failed');
    expect(isCircuitOpenError(err)).toBe(true);
    const cause = (err as TypeError).cause as CircuitOpenError;
    expect(cause).toBeInstanceOf(CircuitOpenError);
    expect(cause.code).toBe('ECIRCUITOPEN');
    expect(cause.breaker).toBe(`http://127.0.0.1:${d.port}`);
    expect(cause.state).toBe('open');

    const more = await getMany(3, d.url, { method: 'POST', body: 'payload' });
    expect(more.every((o) => isCircuitOpenError(o.error))).toBe(true);
    // npm undici shares the global dispatcher; its request() gets the error itself.
    await expect(undiciRequest(d.url)).rejects.toMatchObject({ code: 'ECIRCUITOPEN', breaker: d.origin });

    expect(d.connections).toBe(connections);
    expect(d.requests).toBe(requests);
    expect(breaker.rejections).toBe(5);
  });

  it('fails fast without writing to a warm keep-alive connection', async () => {
    const plugin = startPlugin();
    const d = await startDownstream(status(500), { keepAlive: true });

    await getMany(4, d.url);
    // undici keeps idle connections open (it may have used more than one for sequential calls).
    const connections = d.connections;
    expect(connections - d.closedConnections).toBeGreaterThan(0);
    expect(plugin.breakers.find(d.origin)!.state).toBe('open');
    const outcomes = await getMany(3, d.url);
    expect(outcomes.every((o) => isCircuitOpenError(o.error))).toBe(true);
    expect(d.requests).toBe(4);
    expect(d.connections).toBe(connections);
  });

  it('counts a refused connection as a failure and trips', async () => {
    const plugin = startPlugin();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/`;

    const refused = await getMany(4, url);
    expect(refused.map(causeCode)).toEqual(['ECONNREFUSED', 'ECONNREFUSED', 'ECONNREFUSED', 'ECONNREFUSED']);
    const breaker = plugin.breakers.find(`http://127.0.0.1:${port}`)!;
    expect(breaker.failures).toBe(4);
    expect(breaker.state).toBe('open');
    expect(causeCode(await get(url))).toBe('ECIRCUITOPEN');
  });

  it('counts a connection reset mid-request as a failure and trips', async () => {
    const plugin = startPlugin();
    const d = await startDownstream(reset);

    const outcomes = await getMany(4, d.url);
    expect(outcomes.every((o) => o.error instanceof TypeError && !isCircuitOpenError(o.error))).toBe(true);
    expect(outcomes.map(causeCode)).toEqual(['UND_ERR_SOCKET', 'UND_ERR_SOCKET', 'UND_ERR_SOCKET', 'UND_ERR_SOCKET']);
    expect(d.requests).toBe(4);
    const breaker = plugin.breakers.find(d.origin)!;
    expect(breaker.failures).toBe(4);
    expect(breaker.state).toBe('open');
    expect(causeCode(await get(d.url))).toBe('ECIRCUITOPEN');
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
    expect(causeCode(await get(d.url))).toBe('ECIRCUITOPEN');
  });
});

describe('fetch breaker: what counts as a failure', () => {
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
    expect(causeCode(await get(limited.url))).toBe('ECIRCUITOPEN');

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

describe('fetch breaker: recovery', () => {
  it('goes half-open after resetTimeout, closes on good probes, and lets requests through again', async () => {
    const plugin = startPlugin();
    const d = await startDownstream();
    const changes: string[] = [];
    plugin.breakers.onStateChange((c) => changes.push(`${c.from}->${c.to}`));

    await trip(d);
    expect(causeCode(await get(d.url))).toBe('ECIRCUITOPEN');
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
    expect(causeCode(await get(d.url))).toBe('ECIRCUITOPEN');
    expect(d.requests).toBe(requests);
  });
});

describe('fetch breaker: what is not guarded', () => {
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
      expect(causeCode(await get(d.url))).toBe('ECIRCUITOPEN');
      const requests = d.requests;
      const suppressed = await context.with(suppressTracing(context.active()), () => get(d.url));
      expect(suppressed.status).toBe(500);
      expect(d.requests).toBe(requests + 1);
    } finally {
      context.disable();
    }
  });
});

describe('fetch breaker: breaker names', () => {
  it('keys the breaker by origin, never with credentials', async () => {
    const plugin = startPlugin();
    const d = await startDownstream(status(500));
    const withCredentials = `http://user:s3cret@127.0.0.1:${d.port}`;

    // fetch itself refuses such URLs (Fetch standard), before any dispatcher.
    const refused = await get(`${withCredentials}/`);
    expect(refused.error).toBeInstanceOf(TypeError);
    expect(plugin.breakers.size).toBe(0);

    // undici's request() and a raw dispatch carry the origin the caller gave.
    for (let i = 0; i < 2; i++) await (await undiciRequest(`${withCredentials}/private?token=abc`)).body.dump();
    const dispatcher = getGlobalDispatcher();
    for (let i = 0; i < 2; i++) await (await dispatcher.request({ origin: withCredentials, path: '/', method: 'GET' })).body.dump();
    expect(plugin.breakers.list().map((b) => b.name)).toEqual([`http://127.0.0.1:${d.port}`]);
    expect(plugin.breakers.find(d.origin)!.state).toBe('open');

    const rejected = await dispatcher.request({ origin: withCredentials, path: '/', method: 'GET' }).catch((e: unknown) => e);
    expect(findCircuitOpenError(rejected)?.breaker).toBe(`http://127.0.0.1:${d.port}`);
    expect((rejected as Error).message).not.toMatch(/user|s3cret|token/);
  });
});

describe('fetch breaker: leaves fetch semantics alone', () => {
  it('settles a call at its response headers, whether or not the body is ever read', async () => {
    const plugin = startPlugin();
    const d = await startDownstream((_req, res) => res.end(Buffer.alloc(1024 * 1024, 'x')));

    for (let i = 0; i < 6; i++) {
      const res = await fetch(d.url);
      expect(plugin.breakers.find(d.origin)!.successes).toBe(i + 1);
      if (i % 2 === 0) await res.body!.cancel();
    }
    const breaker = plugin.breakers.find(d.origin)!;
    expect(breaker.failures).toBe(0);
    expect(breaker.state).toBe('closed');
  });
});

describe('fetch breaker: the caller giving up', () => {
  it('does not count an aborted fetch as a failure', async () => {
    const plugin = startPlugin();
    const d = await startDownstream(hang);

    for (let i = 0; i < 6; i++) {
      const ac = new AbortController();
      const pending = get(d.url, { signal: ac.signal });
      await d.nextRequest();
      ac.abort();
      expect((await pending).error?.name).toBe('AbortError');
      expect(plugin.breakers.find(d.origin)!.failures).toBe(0);
    }
    // Aborted before it was dispatched at all.
    const ac = new AbortController();
    const early = get(d.url, { signal: ac.signal });
    ac.abort();
    expect((await early).error?.name).toBe('AbortError');

    const breaker = plugin.breakers.find(d.origin)!;
    expect(breaker.failures).toBe(0);
    expect(breaker.state).toBe('closed');
  });

  it('counts a fetch that times out (AbortSignal.timeout) as a failure', async () => {
    const plugin = startPlugin();
    const d = await startDownstream(hang);

    for (let i = 0; i < 4; i++) {
      const outcome = await get(d.url, { signal: AbortSignal.timeout(20) });
      expect(outcome.error?.name).toBe('TimeoutError');
    }
    const breaker = plugin.breakers.find(d.origin)!;
    expect(d.requests).toBe(4);
    expect(breaker.failures).toBe(4);
    expect(breaker.state).toBe('open');
  });

  it('frees the half-open slot of a probe the caller aborts', async () => {
    const plugin = startPlugin();
    const d = await startDownstream();
    await trip(d);
    await pastResetTimeout();

    d.behave(hang);
    for (let i = 0; i < 2; i++) {
      const ac = new AbortController();
      const pending = get(d.url, { signal: ac.signal });
      await d.nextRequest();
      ac.abort();
      expect((await pending).error?.name).toBe('AbortError');
      expect(plugin.breakers.find(d.origin)!.state).toBe('half-open');
    }
    d.behave(status(200));
    expect((await getMany(2, d.url)).map((o) => o.status)).toEqual([200, 200]);
    expect(plugin.breakers.find(d.origin)!.state).toBe('closed');
  });
});

describe('fetch breaker: every call settles', () => {
  it('settles each of 200 concurrent fetches against a flapping downstream, and the counts add up', async () => {
    const plugin = startPlugin();
    // Every 20th call is aborted by the caller once it reaches the server, so it is surely admitted.
    const aborters = new Map<string, AbortController>();
    // Healthy and sick in turns of 12 requests; sick answers 500, drops the connection or answers late.
    const d = await startDownstream((req, res, n) => {
      const abort = req.url?.startsWith('/abort/') ? aborters.get(req.url) : undefined;
      if (abort) return abort.abort();
      if (Math.floor(n / 12) % 2 === 0) return status(200)(req, res, n);
      return [status(500), reset, slow(20, 503)][n % 3]!(req, res, n);
    });
    const issued = 200;
    const calls = Array.from({ length: issued }, async (_, i) => {
      await sleep((i % 50) * 8 + Math.floor(i / 50) * 3);
      if (i % 20 !== 7) return get(d.url);
      const path = `/abort/${i}`;
      const ac = new AbortController();
      aborters.set(path, ac);
      return get(`${d.origin}${path}`, { signal: ac.signal });
    });
    const settled = await Promise.allSettled(calls);
    expect(settled).toHaveLength(issued);
    expect(settled.every((s) => s.status === 'fulfilled')).toBe(true);
    const outcomes = settled.map((s) => (s as PromiseFulfilledResult<Outcome>).value);
    const rejected = outcomes.filter((o) => isCircuitOpenError(o.error)).length;
    const aborted = outcomes.filter((o) => o.error?.name === 'AbortError').length;

    const b = plugin.breakers.find(d.origin)!;
    expect(b.rejections).toBe(rejected);
    expect(b.rejections).toBeGreaterThan(0);
    expect(b.failures).toBeGreaterThan(0);
    expect(b.successes + b.failures + b.rejections + aborted).toBe(issued);

    // No probe slot leaked: once healthy, it closes again.
    d.behave(status(200));
    await pastResetTimeout();
    for (let i = 0; i < 4 && b.state !== 'closed'; i++) await get(d.url);
    expect(b.state).toBe('closed');
  });
});

describe('fetch breaker: shutdown', () => {
  it('restores the global dispatcher and stops guarding', async () => {
    const plugin = startPlugin();
    expect(getGlobalDispatcher()).not.toBe(ORIGINAL_DISPATCHER);
    const d = await startDownstream();
    await trip(d);
    expect(causeCode(await get(d.url))).toBe('ECIRCUITOPEN');
    const before = plugin.breakers.find(d.origin)!.toJSON();

    await plugin.shutdown();
    expect(getGlobalDispatcher()).toBe(ORIGINAL_DISPATCHER);
    expect((globalThis as Record<symbol, unknown>)[GLOBAL_DISPATCHER]).toBe(ORIGINAL_DISPATCHER);
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
    expect(causeCode(await get(d.url))).toBe('ECIRCUITOPEN');
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
