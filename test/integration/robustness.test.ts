import { execFile } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { isCircuitOpenError } from '../../src/breaker/index.js';
import { cleanup, startDownstream, startPlugin, status } from './downstream.js';

interface Outcome {
  status?: number;
  error?: NodeJS.ErrnoException;
}

function get(url: string, options: http.RequestOptions = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = http.get(url, options, (res) => {
      res.resume();
      res.on('close', () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.on('error', (error) => resolve({ error }));
  });
}

describe('user callbacks that throw never reach the application', () => {
  afterEach(cleanup);

  it('a throwing failureStatusCodes predicate falls back to 5xx, for http and fetch', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      const plugin = startPlugin({
        http: {
          failureStatusCodes: () => {
            throw new Error('bug in user code');
          },
        },
      });
      const d = await startDownstream(status(500));
      for (let i = 0; i < 2; i++) expect((await get(d.url)).status).toBe(500);
      for (let i = 0; i < 2; i++) expect((await fetch(d.url)).status).toBe(500);
      expect(isCircuitOpenError((await get(d.url)).error)).toBe(true);
      expect(plugin.breakers.find(d.origin)?.failures).toBe(4);
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  it('a throwing or empty breakerKey falls back to the origin', async () => {
    const plugin = startPlugin({
      http: {
        breakerKey: (d) => {
          if (d.port % 2) throw new Error('bug');
          return '';
        },
      },
    });
    const d = await startDownstream(status(200));
    expect((await get(d.url)).status).toBe(200);
    expect((await fetch(d.url)).status).toBe(200);
    expect(plugin.breakers.list().map((b) => b.name)).toEqual([d.origin]);
  });
});

describe('aborts and timeouts', () => {
  afterEach(cleanup);

  it('a fetch the caller aborts with a reason of its own is not a failure', async () => {
    const plugin = startPlugin();
    const d = await startDownstream(() => undefined); // never answers
    for (let i = 0; i < 5; i++) {
      const ac = new AbortController();
      const p = fetch(d.url, { signal: ac.signal });
      await d.nextRequest();
      ac.abort(new Error('user navigated away'));
      await expect(p).rejects.toThrow('user navigated away');
    }
    const b = plugin.breakers.find(d.origin)!;
    expect(b.failures).toBe(0);
    expect(b.peekState()).toBe('closed');
  });

  it('an http request ended by AbortSignal.timeout() is a failure: the client timed the downstream out', async () => {
    const plugin = startPlugin();
    const d = await startDownstream(() => undefined);
    for (let i = 0; i < 4; i++) {
      const out = await get(d.url, { signal: AbortSignal.timeout(30) });
      expect(out.error?.name).toBe('AbortError');
    }
    expect(plugin.breakers.find(d.origin)?.failures).toBe(4);
    expect(isCircuitOpenError((await get(d.url)).error)).toBe(true);
  });
});

describe('breaker names', () => {
  afterEach(cleanup);

  it('an override written as a URL without its port applies to the destination', async () => {
    const d = await startDownstream(status(200));
    const plugin = startPlugin({ overrides: { [`HTTP://127.0.0.1:${d.port}/`]: { failureThreshold: 0.9 } } });
    await fetch(d.url);
    expect(plugin.breakers.find(d.origin)?.options.failureThreshold).toBe(0.9);
    expect(plugin.breakers.optionsFor(`http://localhost:80`).failureThreshold).toBe(0.5);
  });

  it('host names differing in case share one breaker across http and fetch', async () => {
    const d = await startDownstream(status(200));
    const plugin = startPlugin();
    await get(`http://LOCALHOST:${d.port}/`);
    await fetch(`http://localhost:${d.port}/`);
    expect(plugin.breakers.list().map((b) => b.name)).toEqual([`http://localhost:${d.port}`]);
    expect(plugin.breakers.find(`http://localhost:${d.port}`)?.successes).toBe(2);
  });
});

describe('importing the package', () => {
  it('changes nothing until asked: no global dispatcher, no patched http.Agent', async () => {
    const script = `
      const sym = Symbol.for('undici.globalDispatcher.1');
      const http = require('node:http');
      const before = http.Agent.prototype.addRequest;
      require(${JSON.stringify(path.join(__dirname, '../../dist/index.cjs'))});
      process.stdout.write(JSON.stringify({ dispatcher: globalThis[sym] === undefined, agent: http.Agent.prototype.addRequest === before }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', script]);
    expect(JSON.parse(stdout)).toEqual({ dispatcher: true, agent: true });
  });
});
