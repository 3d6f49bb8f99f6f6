// The application of the chaos service (see service.mjs): an ordinary HTTP service with ordinary
// clients (node:http, fetch, a pg Pool, ioredis), written as its authors would write it with
// otel-self-heal underneath. Every route calls one dependency with a client timeout, serves the
// last good answer when the dependency's breaker is open, and says how it answered in the
// `x-chaos-outcome` header: answered, fallback, fast-failed (refused without calling anything)
// or error (the call failed).
import http from 'node:http';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import { trace } from '@opentelemetry/api';
import pg from 'pg';
import Redis from 'ioredis';
import { getSelfHealing, isCircuitOpenError } from 'otel-self-heal';

/** One GET with node:http: the parsed JSON body, or a rejection (5xx, network error, timeout). */
function getJson(url, timeoutMs) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('close', () => {
        if (!res.complete) reject(Object.assign(new Error('response aborted'), { code: 'ECONNRESET' }));
      });
      res.on('end', () => {
        if (res.statusCode >= 500) reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { code: `HTTP_${res.statusCode}` }));
        else resolve(JSON.parse(Buffer.concat(chunks).toString() || '{}'));
      });
    });
    // The client timeout: give up on the request and its socket.
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`no answer in ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
  });
}

/** The same with fetch. */
async function fetchJson(url, timeoutMs) {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const body = await res.text();
  if (res.status >= 500) throw Object.assign(new Error(`HTTP ${res.status}`), { code: `HTTP_${res.status}` });
  return JSON.parse(body || '{}');
}

/** Rejects after `ms`: the route's last line of defence, in case a client timeout did not fire. */
function deadline(promise, ms) {
  let timer;
  const expired = new Promise((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`route deadline of ${ms} ms`), { code: 'EDEADLINE' })), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

export async function startApp(config) {
  const { targets, timeouts } = config;
  const pool = new pg.Pool({
    ...targets.postgres,
    max: 4,
    connectionTimeoutMillis: timeouts.dbMs,
    query_timeout: timeouts.dbMs,
    idleTimeoutMillis: 10_000,
  });
  const counters = { poolErrors: 0, redisErrors: 0, shed: 0, deadlines: 0, inFlightPeak: 0 };
  // An idle client whose connection died: the pool drops it and makes a new one when needed.
  pool.on('error', () => counters.poolErrors++);
  // Commands sent while the connection is being made again wait in the offline queue (up to
  // the command timeout) instead of failing at once.
  const redis = new Redis({
    ...targets.redis,
    commandTimeout: timeouts.dbMs,
    connectTimeout: timeouts.dbMs,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(times * 100, 1000),
  });
  redis.on('error', () => counters.redisErrors++);
  await once(redis, 'ready');
  await pool.query('SELECT 1');

  let queries = 0;
  const routes = {
    '/healthy': () => getJson(`${targets.healthy}/data`, timeouts.httpMs),
    '/flaky': () => fetchJson(`${targets.flaky}/data`, timeouts.httpMs),
    '/chain': () => getJson(`${targets.chain}/chain`, timeouts.httpMs),
    '/leaky': () => fetchJson(`${targets.leaky}/data`, timeouts.httpMs),
    '/db': async () => (await pool.query('SELECT $1::int AS n, now() AS at', [++queries])).rows[0],
    '/cache': async () => ({ hits: await redis.incr('chaos:hits') }),
  };

  // The service's own load, reported to health as a custom component: the share of the last
  // second the event loop was busy (what a CPU-bound spike saturates), and the heap.
  const heapLimit = v8.getHeapStatistics().heap_size_limit;
  const elus = [performance.eventLoopUtilization()];
  getSelfHealing().health.addCheck(
    'service',
    async () => {
      const now = performance.eventLoopUtilization();
      const busy = performance.eventLoopUtilization(now, elus[0]).utilization;
      elus.push(now);
      if (elus.length > 4) elus.shift(); // readings every 250 ms: the oldest is a second old
      return { timestamp: Date.now(), cpuUsage: busy, memoryUsage: process.memoryUsage().heapUsed / heapLimit };
    },
    { intervalMs: 250, timeoutMs: 100 },
  );

  const lastGood = new Map();
  const outcomes = {};
  const errors = {};
  let inFlight = 0;
  const reply = (res, route, status, outcome, body) => {
    outcomes[route] ??= { answered: 0, fallback: 0, 'fast-failed': 0, error: 0 };
    outcomes[route][outcome]++;
    res.statusCode = status;
    res.setHeader('content-type', 'application/json');
    res.setHeader('x-chaos-outcome', outcome);
    res.end(JSON.stringify(body));
  };

  const abandoned = [];
  const server = http.createServer(async (req, res) => {
    const route = req.url?.split('?')[0] ?? '/';
    const arrived = performance.now();
    // A caller that hung up before the answer: how long it had waited, and how busy we were.
    res.on('close', () => {
      if (!res.writableEnded && abandoned.length < 50) abandoned.push({ route, afterMs: Math.round(performance.now() - arrived), inFlight });
    });
    const call = routes[route];
    if (!call) return reply(res, route, 404, 'error', { error: 'no such route' });
    // What a router would set: health names the route's component after it.
    trace.getActiveSpan()?.setAttribute('http.route', route);
    if (inFlight >= config.maxInFlight) {
      counters.shed++;
      return reply(res, route, 503, 'fast-failed', { error: 'busy' });
    }
    inFlight++;
    counters.inFlightPeak = Math.max(counters.inFlightPeak, inFlight);
    try {
      const value = await deadline(call(), timeouts.routeDeadlineMs);
      lastGood.set(route, value);
      reply(res, route, 200, 'answered', value);
    } catch (err) {
      if (isCircuitOpenError(err)) {
        // The dependency is cut off: the last good answer, or a quick refusal when there is none.
        if (lastGood.has(route)) reply(res, route, 200, 'fallback', { ...lastGood.get(route), stale: true });
        else reply(res, route, 503, 'fast-failed', { error: 'dependency unavailable' });
      } else {
        if (err?.code === 'EDEADLINE') counters.deadlines++;
        // DOMException codes are numbers (a timeout's is 23): its name says more.
        const kind = typeof err?.code === 'string' ? err.code : (err?.cause?.code ?? err?.name ?? 'Error');
        const code = `${route} ${kind}: ${String(err?.message).slice(0, 60)}`;
        errors[code] = (errors[code] ?? 0) + 1;
        reply(res, route, err?.code === 'EDEADLINE' ? 504 : 502, 'error', { error: String(code) });
      }
    } finally {
      inFlight--;
    }
  });
  server.keepAliveTimeout = 30_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));

  const startedAt = { cpu: process.cpuUsage(), elu: performance.eventLoopUtilization(), wall: performance.now() };
  return {
    port: server.address().port,
    stats: () => {
      const cpu = process.cpuUsage(startedAt.cpu);
      const wallMs = performance.now() - startedAt.wall;
      const usage = {
        cpuShare: Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 100) / 100,
        eventLoopBusy: Math.round(performance.eventLoopUtilization(startedAt.elu).utilization * 100) / 100,
      };
      return { outcomes, errors, counters: { ...counters }, usage, abandoned };
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      redis.disconnect();
      await pool.end().catch(() => undefined);
    },
  };
}
