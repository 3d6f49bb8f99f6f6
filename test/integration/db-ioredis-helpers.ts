/**
 * Helpers of the ioredis breaker tests: the real Redis on 127.0.0.1:6379 behind the fault
 * proxy, clients with options under which no call can hang, and calls turned into outcomes.
 */
import { createRequire } from 'node:module';
import { Redis, type RedisOptions } from 'ioredis';
import type { BreakerOptions } from '../../src/breaker/index.js';
import { FaultProxy } from '../support/faultProxy.js';

export const REDIS_PORT = 6379;

/** Breaker options for these tests: judged from 4 calls, opens at 50 %, two good probes close it. */
export const REDIS_BREAKER: BreakerOptions = Object.freeze({
  minimumRequests: 4,
  windowSize: 10,
  failureThreshold: 0.5,
  resetTimeout: 300,
  backoffMultiplier: 1,
  jitter: 0,
  halfOpenRequestLimit: 2,
  halfOpenSuccessThreshold: 1,
});

/** Long enough that an open breaker stays open while a test looks at it, on a loaded machine. */
export const HOLD_OPEN: BreakerOptions = Object.freeze({ ...REDIS_BREAKER, resetTimeout: 60_000 });

export type RedisError = Error & { code?: string; breaker?: string; state?: string; previousErrors?: Error[] };
export type Outcome = { value: unknown; error?: undefined } | { value?: undefined; error: RedisError };

const proxies = new Set<FaultProxy>();
const clients = new Set<Redis>();

export async function startProxy(): Promise<FaultProxy> {
  const proxy = await FaultProxy.start({ upstreamPort: REDIS_PORT });
  proxies.add(proxy);
  return proxy;
}

/** The breaker name of the proxy's destination. */
export const nameOf = (proxy: FaultProxy, db = 0) => `redis://127.0.0.1:${proxy.port}/${db}`;

/**
 * A client of the proxy (or of a port) that cannot hang: a command waits at most `commandTimeout`, queued
 * commands fail at the next lost connection (`maxRetriesPerRequest: 0`), reconnections come
 * every 50 ms. Lazy unless told otherwise, so a test knows when it connects. Its connection
 * errors are expected (listened to, so ioredis does not print them). `Impl`: another loaded
 * copy of ioredis.
 */
export function redisClient(proxy: FaultProxy | number, extra: RedisOptions = {}, Impl: typeof Redis = Redis): Redis {
  const port = typeof proxy === 'number' ? proxy : proxy.port;
  const client = new Impl({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    commandTimeout: 1_000,
    connectTimeout: 1_000,
    retryStrategy: () => 50,
    ...extra,
  });
  track(client);
  return client;
}

/** Disconnects `client` after the test. */
export function track<T extends Redis>(client: T): T {
  client.on('error', () => undefined);
  clients.add(client);
  return client;
}

/** A client straight to the real server (not through the proxy): to look at what reached it. */
export function directClient(db = 0): Redis {
  return redisClient(REDIS_PORT, { db, lazyConnect: false });
}

/**
 * The promise's outcome; a call still pending after `ms` fails the test (every call must settle:
 * the clients' timeouts are far shorter).
 */
export async function settle(p: Promise<unknown>, ms = 8_000): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`a call did not settle within ${ms} ms`)), ms);
    timer.unref();
  });
  try {
    return await Promise.race([p.then((value) => ({ value }), (error: RedisError) => ({ error })), hung]);
  } finally {
    clearTimeout(timer);
  }
}

/** `n` GETs one after the other. */
export async function gets(client: Redis, n: number, key = 'selfheal:test'): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for (let i = 0; i < n; i++) out.push(await settle(client.get(key)));
  return out;
}

/** Polls `check` every 20 ms until it returns true, for at most `ms`. */
export async function waitFor(check: () => boolean, ms = 8_000, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const req = createRequire(import.meta.url);

/**
 * A fresh copy of ioredis, loaded now (its require cache entries cleared): the require hooks of
 * the instrumentations alive now patch it, as in an application that loads ioredis after
 * starting the SDK.
 */
export function freshIoredis(): typeof Redis {
  for (const file of Object.keys(req.cache)) if (file.replaceAll('\\', '/').includes('/node_modules/ioredis/')) delete req.cache[file];
  return req('ioredis') as typeof Redis;
}

/** A unique key per call, so tests never see each other's data. */
let seq = 0;
export const key = (label: string) => `selfheal:ioredis:${process.pid}:${label}:${++seq}`;

/** For `afterEach`: disconnects every client and closes every proxy. */
export async function closeAll(): Promise<void> {
  for (const c of clients) c.disconnect();
  clients.clear();
  await Promise.all([...proxies].map((p) => p.close()));
  proxies.clear();
}
