import { createHook } from 'node:async_hooks';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { SelfHealing } from '../../src/SelfHealing.js';
import type { SelfHealingOptions } from '../../src/options.js';
import type { BreakerOptions } from '../../src/breaker/index.js';

/** How the downstream answers one request; `n` counts requests from 1. */
export type Behaviour = (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void;

/**
 * A real HTTP server on 127.0.0.1 that the test steers, counting what reaches the network.
 * By default every response carries `Connection: close`, so each request needs a new TCP
 * connection and `connections` is a true count of what the client opened.
 */
export interface Downstream {
  readonly port: number;
  /** `http://127.0.0.1:PORT`: the breaker name the instrumentations give it. */
  readonly origin: string;
  /** `origin + '/'`. */
  readonly url: string;
  /** TCP connections accepted so far. */
  readonly connections: number;
  /** TCP connections that have closed so far. */
  readonly closedConnections: number;
  /** Requests received so far. */
  readonly requests: number;
  /** Replaces the behaviour for the next requests. */
  behave(b: Behaviour): void;
  /** Resolves at the next request the server receives. */
  nextRequest(): Promise<http.IncomingMessage>;
  close(): Promise<void>;
}

export const status =
  (code: number, body = 'x'): Behaviour =>
  (_req, res) => {
    res.statusCode = code;
    res.end(body);
  };

/** The server drops the connection after reading the request, before any response byte. */
export const reset: Behaviour = (req) => {
  req.socket.destroy();
};

/** Headers only after `ms` (the slow-call rule times a call up to its response headers). */
export const slow =
  (ms: number, code = 200): Behaviour =>
  (_req, res) => {
    const t = setTimeout(() => {
      res.statusCode = code;
      res.end('slow');
    }, ms);
    res.on('close', () => clearTimeout(t));
  };

/** Never answers; the request stays open until the client gives up or the server closes. */
export const hang: Behaviour = () => {};

const live = new Set<Downstream>();

export async function startDownstream(initial: Behaviour = status(200), opts: { keepAlive?: boolean } = {}): Promise<Downstream> {
  let behaviour = initial;
  let connections = 0;
  let closedConnections = 0;
  let requests = 0;
  const waiting: Array<(req: http.IncomingMessage) => void> = [];
  const server = http.createServer((req, res) => {
    requests++;
    if (!opts.keepAlive) res.setHeader('connection', 'close');
    // Drain the request body, whatever the behaviour does with the response.
    req.resume();
    behaviour(req, res, requests);
    for (const w of waiting.splice(0)) w(req);
  });
  server.on('connection', (socket) => {
    connections++;
    socket.on('close', () => closedConnections++);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const d: Downstream = {
    port,
    origin: `http://127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}/`,
    get connections() {
      return connections;
    },
    get closedConnections() {
      return closedConnections;
    },
    get requests() {
      return requests;
    },
    behave(b) {
      behaviour = b;
    },
    nextRequest: () => new Promise((resolve) => waiting.push(resolve)),
    close: () =>
      new Promise<void>((resolve) => {
        live.delete(d);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  live.add(d);
  return d;
}

/** A port with nothing listening: bound once, then released. */
export async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/**
 * Small numbers so a handful of real requests drive every rule: judged from 4 calls, opens at
 * 50 % failures, open 150 ms (no jitter, no backoff growth), half-open closes after 2 good probes.
 */
export const QUICK_BREAKER: BreakerOptions = Object.freeze({
  minimumRequests: 4,
  windowSize: 10,
  failureThreshold: 0.5,
  resetTimeout: 150,
  backoffMultiplier: 1,
  jitter: 0,
  halfOpenRequestLimit: 2,
  halfOpenSuccessThreshold: 1,
});

let plugin: SelfHealing | undefined;

/** The plugin under test, built directly (no NodeSDK); shut down after each test. */
export function startPlugin(options: SelfHealingOptions = {}): SelfHealing {
  if (plugin && !plugin.isShutdown) throw new Error('test bug: a SelfHealing instance is still live');
  plugin = new SelfHealing({ officialInstrumentations: false, ...options, breaker: { ...QUICK_BREAKER, ...options.breaker } });
  return plugin;
}

/** For `afterEach`: shuts the plugin down (it unpatches) and closes every downstream still open. */
export async function cleanup(): Promise<void> {
  await plugin?.shutdown();
  plugin = undefined;
  await Promise.all([...live].map((d) => d.close()));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits past an open breaker's reset timeout (150 ms in {@link QUICK_BREAKER}). */
export const pastResetTimeout = () => sleep(250);

/** Number of ref'ed timers the process holds now. */
export function activeTimeouts(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

const OUR_CODE = [fileURLToPath(new URL('../../src/', import.meta.url)), fileURLToPath(new URL('../../instrumentations/', import.meta.url))];

/**
 * Records every timer created from now on, with its creation stack. `stop()` returns the stacks
 * of those still pending and ref'ed that our code (src/, instrumentations/) created. The plain
 * count of `process.getActiveResourcesInfo()` also moves with the test runner's own RPC timers.
 */
export function trackTimers(): { stop(): string[] } {
  const pending = new Map<number, { stack: string; timer: { hasRef?(): boolean } }>();
  const hook = createHook({
    init(id, type, _trigger, resource) {
      if (type !== 'Timeout') return;
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 50;
      const stack = new Error().stack ?? '';
      Error.stackTraceLimit = limit;
      pending.set(id, { stack, timer: resource as { hasRef?(): boolean } });
    },
    destroy(id) {
      pending.delete(id);
    },
  }).enable();
  return {
    stop() {
      hook.disable();
      return [...pending.values()]
        .filter((t) => t.timer.hasRef?.() !== false && OUR_CODE.some((dir) => t.stack.includes(dir)))
        .map((t) => t.stack);
    },
  };
}
