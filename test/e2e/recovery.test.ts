import { createRequire } from 'node:module';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { ConfigChangeEvent } from '../../src/config/adaptive/index.js';
import { HealthSpanProcessor, LEVEL_VALUE, httpCheck, tcpCheck, type HealthChange, type HealthStatus } from '../../src/health/index.js';
import type { RecoveryEventName, RecoveryEvents, SelfHealingComponent } from '../../src/recovery/index.js';
import type { SelfHealing } from '../../src/SelfHealing.js';
import { cleanup, freePort, startDownstream, startPlugin, status } from '../integration/downstream.js';

// Issue 4 (spec 4.2.1 item 1, 4.2.2 Self-Healing Flow), end to end with real parts: servers on
// 127.0.0.1, node:http's global keep-alive agent, the official HTTP instrumentation making the
// CLIENT spans, and the plugin's HealthSpanProcessor turning them into health, wired as
// withSelfHealing + NodeSDK wire them. Nothing here drives the recovery manager by hand: health
// changes set every recovery off.

// The official instrumentation (enabled on construction) patches node:http when it is required
// afterwards, as an application's modules are after sdk.start(). Incoming requests are not
// traced: the servers here stand for other services.
const official = new HttpInstrumentation({ disableIncomingRequestInstrumentation: true });
const http = createRequire(import.meta.url)('node:http') as typeof import('node:http');
afterAll(() => official.disable());

const teardown: Array<() => unknown> = [];
afterEach(async () => {
  for (const t of teardown.splice(0).reverse()) await t();
  await cleanup();
  http.globalAgent.destroy();
});

/**
 * Gives the plugin a tracer provider (with health from spans, as withSelfHealing adds it) and a
 * logger provider, as NodeSDK does: through its instrumentations. The provider is registered for
 * its context manager, which carries the CLIENT span to the breaker (the evidence) and the
 * health checks' suppression flag.
 */
function instrument(plugin: SelfHealing): { spans: InMemorySpanExporter; logs: InMemoryLogRecordExporter } {
  const spans = new InMemorySpanExporter();
  const logs = new InMemoryLogRecordExporter();
  const tracerProvider = new NodeTracerProvider({
    spanProcessors: [new HealthSpanProcessor(plugin.health, () => plugin.shutdown()), new SimpleSpanProcessor(spans)],
  });
  tracerProvider.register();
  const loggerProvider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter: logs })] });
  official.setTracerProvider(tracerProvider);
  for (const i of plugin.instrumentations) {
    i.setTracerProvider(tracerProvider);
    i.setLoggerProvider?.(loggerProvider);
  }
  teardown.push(async () => {
    trace.disable();
    context.disable();
    propagation.disable();
    official.setTracerProvider(trace.getTracerProvider()); // the no-op one again
    await tracerProvider.shutdown();
    await loggerProvider.shutdown();
  });
  return { spans, logs };
}

/** Every recovery event, in order, as [name, event]. */
function recordEvents(plugin: SelfHealing): Array<[RecoveryEventName, RecoveryEvents[RecoveryEventName]]> {
  const out: Array<[RecoveryEventName, RecoveryEvents[RecoveryEventName]]> = [];
  const names: RecoveryEventName[] = ['recovery-started', 'attempt-started', 'attempt-finished', 'rolled-back', 'manual-intervention', 'recovery-completed', 'acknowledged'];
  for (const name of names) plugin.recovery.on(name, (e) => out.push([name, e]));
  return out;
}

/** The next event `name` (of `component`). */
function next<E extends RecoveryEventName>(plugin: SelfHealing, name: E, component: string): Promise<RecoveryEvents[E]> {
  return new Promise((resolve) => {
    const off = plugin.recovery.on(name, (e) => {
      if ('component' in e && e.component !== component) return;
      off();
      resolve(e);
    });
  });
}

/** One GET through http.globalAgent (keep-alive): 'ok', 'timeout' (ours, after `timeoutMs`), or the error code. */
function get(url: string, timeoutMs = 2_000): Promise<string> {
  return new Promise((resolve) => {
    let timedOut = false;
    const req = http.get(url, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? 'ok' : String(res.statusCode)));
      res.on('close', () => resolve('aborted'));
    });
    // The usual client timeout: give up on the request and its socket.
    req.setTimeout(timeoutMs, () => {
      timedOut = true;
      req.destroy();
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(timedOut ? 'timeout' : (err.code ?? err.message)));
  });
}

interface Load {
  readonly results: string[];
  /** Results in a row at the end that are 'ok'. */
  okStreak(): number;
  stop(): Promise<void>;
}

/** `rps` GETs a second, each with a `timeoutMs` client timeout, until stopped. */
function steadyLoad(url: string, rps: number, timeoutMs: number): Load {
  const results: string[] = [];
  const pending = new Set<Promise<void>>();
  const timer = setInterval(() => {
    const p = get(url, timeoutMs).then((r) => void results.push(r));
    pending.add(p);
    void p.finally(() => pending.delete(p));
  }, 1000 / rps);
  return {
    results,
    okStreak() {
      let n = 0;
      for (let i = results.length - 1; i >= 0 && results[i] === 'ok'; i--) n++;
      return n;
    },
    async stop() {
      clearInterval(timer);
      await Promise.all(pending);
    },
  };
}

/**
 * A keep-alive HTTP server whose pooled connections can go half-dead: `zombify()` leaves every
 * open connection up but never answers on it again (a peer that hung, a NAT that forgot the
 * flow: nothing tells the client), while new connections are served.
 */
interface PoolServer {
  readonly origin: string;
  readonly url: string;
  /** TCP connections accepted so far. */
  readonly connections: number;
  /** Zombified connections the client has not closed yet. */
  readonly zombiesOpen: number;
  /** Makes every open connection half-dead; returns how many. */
  zombify(): number;
  close(): Promise<void>;
}

async function startPoolServer(): Promise<PoolServer> {
  const open = new Set<net.Socket>();
  const zombies = new Set<net.Socket>();
  let connections = 0;
  const app = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    if (zombies.has(req.socket)) return; // never answered
    res.end('ok');
  });
  const listener = net.createServer((socket) => {
    connections++;
    open.add(socket);
    socket.on('close', () => {
      open.delete(socket);
      zombies.delete(socket);
    });
    app.emit('connection', socket);
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
  const s: PoolServer = {
    origin,
    url: `${origin}/`,
    get connections() {
      return connections;
    },
    get zombiesOpen() {
      return zombies.size;
    },
    zombify() {
      for (const socket of open) zombies.add(socket);
      return zombies.size;
    },
    async close() {
      for (const socket of open) socket.destroy();
      if (listener.listening) await new Promise((r) => listener.close(r));
    },
  };
  teardown.push(() => s.close());
  return s;
}

/** Keep-alive connections the pool holds before the fault: at 50 calls/s with a 200 ms timeout they would take 4 s to drain one timeout at a time. */
const POOL = 200;
const RPS = 50;
const CLIENT_TIMEOUT_MS = 200;

/**
 * The plugin with health from spans judging every 50 ms and its breakers opened by health alone
 * (a window too large to trip on its own), so the downstream's health, not the breaker, decides;
 * recovery starts on `failed`.
 */
const POOL_PLUGIN = {
  breaker: { minimumRequests: 1000, windowSize: 1000 },
  health: { evaluateEveryMs: 50 },
  recovery: { triggerOn: ['failed' as const] },
};

interface Healing {
  server: PoolServer;
  load: Load;
  zombified: number;
  /** TCP connections the server had accepted when the fault began. */
  connectionsAtFault: number;
  failed: HealthChange;
  completed: RecoveryEvents['recovery-completed'];
  /** The load's results when the recovery completed. */
  resultsAtCompletion: number;
  events: Array<[RecoveryEventName, RecoveryEvents[RecoveryEventName]]>;
}

/**
 * A downstream's pooled keep-alive sockets go half-dead under steady load; returns once the
 * plugin's recovery completed. The load keeps running (stopped by the caller).
 */
async function halfDeadPool(plugin: SelfHealing): Promise<Healing> {
  const server = await startPoolServer();
  const events = recordEvents(plugin);
  const changes: HealthChange[] = [];
  plugin.health.onChange((c) => {
    if (c.component === server.origin) changes.push(c);
  });

  // A pool of POOL keep-alive connections, all answering.
  const warm = await Promise.all(Array.from({ length: POOL }, () => get(server.url)));
  expect(warm.every((r) => r === 'ok')).toBe(true);
  expect(server.connections).toBe(POOL);
  const load = steadyLoad(server.url, RPS, CLIENT_TIMEOUT_MS);
  teardown.push(() => load.stop());
  await vi.waitFor(() => expect(load.okStreak()).toBeGreaterThanOrEqual(10), { timeout: 5_000 });
  expect(plugin.health.component(server.origin)?.status.kind).toBe('healthy');

  const completed = next(plugin, 'recovery-completed', server.origin);
  const connectionsAtFault = server.connections;
  const zombified = server.zombify();
  const done = await completed;
  const failed = changes.find((c) => c.to.kind === 'failed');
  expect(failed).toBeDefined();
  return { server, load, zombified, connectionsAtFault, failed: failed!, completed: done, resultsAtCompletion: load.results.length, events };
}

describe('self-healing flow: a half-dead keep-alive pool (spec 4.2.2)', () => {
  it('times out, is marked failed by health, restarted by recovery, verified, and serves again on fresh sockets', { timeout: 30_000 }, async () => {
    const plugin = startPlugin(POOL_PLUGIN);
    instrument(plugin);
    const h = await halfDeadPool(plugin);
    const origin = h.server.origin;

    // failed -> recovery-started -> attempt-started(restart) -> attempt-finished -> recovery-completed(recovered).
    const mine = h.events.filter(([, e]) => 'component' in e && e.component === origin);
    expect(mine.map(([name]) => name)).toEqual(['recovery-started', 'attempt-started', 'attempt-finished', 'recovery-completed']);
    const started = mine[0]![1] as RecoveryEvents['recovery-started'];
    // The health change itself set the recovery off (the manager hears it before this test's listener).
    expect(started.trigger).toMatchObject({ source: 'health', status: { kind: 'failed' } });
    expect(started.trigger.change).toBe(h.failed);
    expect(started.failureType).toBe('error-rate');
    const attempt = mine[1]![1] as RecoveryEvents['attempt-started'];
    expect(attempt).toMatchObject({ strategy: 'restart', attempt: 1, before: { kind: 'failed' } });
    const finished = mine[2]![1] as RecoveryEvents['attempt-finished'];
    expect(finished.result).toMatchObject({ action: 'restart', success: true, rolledBack: false });
    // Verified first-hand: the pool component's own check, on a fresh connection.
    expect(finished.verification).toMatchObject({ verified: true, source: 'check', status: { kind: 'healthy' } });
    expect(h.completed.outcome).toMatchObject({ component: origin, outcome: 'recovered', failureType: 'error-rate', rolledBack: false });
    expect(h.completed.outcome.attempts).toEqual([expect.objectContaining({ action: 'restart', success: true })]);

    // The calls really did time out before the restart.
    const before = h.load.results.slice(0, h.resultsAtCompletion);
    expect(before.filter((r) => r === 'timeout').length).toBeGreaterThanOrEqual(5);

    // Restored: calls succeed again, on connections opened after the fault, and health comes back.
    await vi.waitFor(() => expect(h.load.okStreak()).toBeGreaterThanOrEqual(20), { timeout: 10_000 });
    expect(h.server.connections).toBeGreaterThan(h.connectionsAtFault);
    await vi.waitFor(() => expect(['healthy', 'degraded']).toContain(plugin.health.component(origin)?.status.kind), { timeout: 15_000 });
    expect(plugin.breakers.get(origin).peekState()).toBe('closed');
    // The restart, not the timeouts, closed the half-dead sockets: one timeout closes one socket,
    // and far fewer calls timed out than there were half-dead sockets.
    expect(h.server.zombiesOpen).toBe(0);
    expect(h.load.results.filter((r) => r === 'timeout').length).toBeLessThan(h.zombified);
    expect(plugin.recovery.stats().outcomes).toMatchObject({ recovered: 1, 'manual-intervention': 0 });
    await h.load.stop();
  });
});

/** A TCP service that can be taken down and brought back on the same port. */
async function tcpService(): Promise<{ port: number; up(): Promise<void>; down(): Promise<void> }> {
  const port = await freePort();
  let server: net.Server | undefined;
  const sockets = new Set<net.Socket>();
  const svc = {
    port,
    async up() {
      if (server) return;
      const s = net.createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      server = s;
      await new Promise<void>((resolve) => s.listen(port, '127.0.0.1', resolve));
    },
    async down() {
      const s = server;
      server = undefined;
      if (!s) return;
      for (const socket of sockets) socket.destroy();
      await new Promise((r) => s.close(r));
    },
  };
  teardown.push(() => svc.down());
  return svc;
}

describe('recovery that does not heal escalates to a person', () => {
  it('ends in manual intervention with a critical alert, and holds automatic recovery until acknowledged', { timeout: 30_000 }, async () => {
    const plugin = startPlugin({ recovery: { exploration: 0 } });
    const { logs } = instrument(plugin);
    const events = recordEvents(plugin);
    const db = await tcpService(); // down: the check is refused

    let fixable = false;
    const calls: string[] = [];
    const ordersDb: SelfHealingComponent = {
      name: 'orders-db',
      async restart() {
        calls.push('restart');
        // Reconnects to the same address: nothing there, until someone fixes the database.
        if (fixable) await db.up();
      },
      async reconfigure() {
        calls.push('reconfigure');
        throw new Error('no replica configured');
      },
    };
    plugin.recovery.addPlan({ failureType: '*', primary: 'restart', fallbacks: ['reconfigure'], maxRetries: 0, retryDelayMs: 10, verifyWindowMs: 1_000 });
    plugin.recovery.register(ordersDb);
    const manual = next(plugin, 'manual-intervention', 'orders-db');
    const completed = next(plugin, 'recovery-completed', 'orders-db');
    plugin.health.addCheck('orders-db', tcpCheck('127.0.0.1', db.port), { intervalMs: 50, timeoutMs: 500 });

    const alert = await manual;
    const outcome = (await completed).outcome;
    expect(calls).toEqual(['restart', 'reconfigure']);
    expect(outcome).toMatchObject({ component: 'orders-db', outcome: 'manual-intervention', failureType: 'connection-refused' });
    expect(outcome.attempts).toEqual([
      expect.objectContaining({ action: 'restart', success: false, error: expect.stringContaining('health did not confirm within 1000 ms') }),
      expect.objectContaining({ action: 'reconfigure', success: false, error: 'no replica configured' }),
    ]);
    expect(alert).toMatchObject({ severity: 'critical', message: expect.stringContaining('acknowledge("orders-db")') });
    expect(events.map(([name]) => name)).toEqual([
      'recovery-started',
      'attempt-started',
      'attempt-finished',
      'attempt-started',
      'attempt-finished',
      'manual-intervention',
      'recovery-completed',
    ]);
    // The alert as the operator's pipeline gets it: a CRITICAL selfheal.alert log record.
    const alerts = logs.getFinishedLogRecords().filter((r) => r.eventName === 'selfheal.alert' && r.severityText === 'CRITICAL');
    expect(alerts.map((r) => r.attributes['selfheal.component.name'])).toContain('orders-db');
    expect(plugin.recovery.stats().onHold).toEqual(['orders-db']);

    // Held: the component comes back and fails again, and no recovery starts. (The manager hears
    // each health change before this listener, so a recovery would have started by then.)
    const startsBefore = events.filter(([name]) => name === 'recovery-started').length;
    const changes: HealthStatus['kind'][] = [];
    plugin.health.onChange((c) => {
      if (c.component === 'orders-db') changes.push(c.to.kind);
    });
    await db.up();
    await vi.waitFor(() => expect(changes).toContain('healthy'), { timeout: 5_000 });
    await db.down();
    await vi.waitFor(() => expect(changes.at(-1)).toBe('failed'), { timeout: 5_000 });
    expect(events.filter(([name]) => name === 'recovery-started')).toHaveLength(startsBefore);
    expect(calls).toEqual(['restart', 'reconfigure']);
    // Asked by hand, it is skipped too.
    expect(await plugin.recovery.requestRecovery('orders-db', 'connection-refused', { kind: 'failed', reason: 'down' })).toMatchObject({
      outcome: 'skipped',
      reason: 'on-hold',
    });

    // Acknowledged while still failing: automatic recovery resumes at once (this time the restart fixes it).
    fixable = true;
    const again = next(plugin, 'recovery-completed', 'orders-db');
    expect(plugin.recovery.acknowledge('orders-db')).toBe(true);
    const afterAck = events.map(([name]) => name).slice(events.findLastIndex(([name]) => name === 'acknowledged'));
    expect(afterAck[0]).toBe('acknowledged');
    expect((await again).outcome).toMatchObject({ outcome: 'recovered', attempts: [expect.objectContaining({ action: 'restart', success: true })] });
    expect(events.map(([name]) => name).slice(events.findLastIndex(([name]) => name === 'acknowledged'))).toContain('recovery-started');
    expect(plugin.recovery.stats().onHold).toEqual([]);
  });
});

/**
 * A health reading of an HTTP endpoint, on a connection of its own: failed when it cannot be
 * reached, critical when it answers 5xx (up, but shedding load), healthy otherwise.
 */
async function endpointHealth(url: string, signal: AbortSignal): Promise<HealthStatus> {
  let code = 0;
  // httpCheck resolves with a status (its HealthCheck type also allows metrics and booleans).
  const reached = (await httpCheck(url, { expectStatus: (s) => ((code = s), true) })(signal)) as HealthStatus;
  if (reached.kind !== 'healthy') return reached;
  return code < 500 ? reached : { kind: 'critical', reason: `GET ${url} answered ${code}` };
}

describe('an action that makes things worse is rolled back', () => {
  it('undoes a fallback that took a critical component to failed, and does not count it as a recovery', { timeout: 30_000 }, async () => {
    const plugin = startPlugin({ recovery: { exploration: 0 } });
    const events = recordEvents(plugin);
    const primary = await startDownstream(status(503, 'overloaded'));
    const backup = `http://127.0.0.1:${await freePort()}/`; // not there
    let target = primary.url;
    let undos = 0;
    const search: SelfHealingComponent = {
      name: 'search',
      checkHealth: (signal) => endpointHealth(target, signal),
      async fallback() {
        const previous = target;
        target = backup;
        return async () => {
          undos++;
          target = previous;
        };
      },
    };
    plugin.recovery.addPlan({ failureType: '*', primary: 'fallback', maxRetries: 0, retryDelayMs: 10, verifyWindowMs: 300 });
    plugin.recovery.register(search);
    const completed = next(plugin, 'recovery-completed', 'search');
    plugin.health.addCheck('search', (signal) => endpointHealth(target, signal), { intervalMs: 50, timeoutMs: 500 });

    const outcome = (await completed).outcome;
    const names = events.map(([name]) => name);
    expect(names).toEqual(['recovery-started', 'attempt-started', 'rolled-back', 'attempt-finished', 'manual-intervention', 'recovery-completed']);
    expect(events[0]![1]).toMatchObject({ trigger: { source: 'health', status: { kind: 'critical' } } });
    expect(events[1]![1]).toMatchObject({ strategy: 'fallback', before: { kind: 'critical' } });
    expect(events[2]![1]).toMatchObject({ strategy: 'fallback', before: { kind: 'critical' }, after: { kind: 'failed' }, success: true });
    expect(undos).toBe(1);
    expect(target).toBe(primary.url);
    expect(outcome).toMatchObject({ component: 'search', rolledBack: true });
    expect(outcome.outcome).not.toBe('recovered');
    expect(outcome.attempts).toEqual([expect.objectContaining({ action: 'fallback', success: false, rolledBack: true })]);
    expect(plugin.recovery.history('search')).toEqual([expect.objectContaining({ result: expect.objectContaining({ action: 'fallback', rolledBack: true }) })]);
    expect(plugin.recovery.stats().strategies).toEqual([expect.objectContaining({ strategy: 'fallback', attempts: 1, successes: 0, rollbacks: 1 })]);
    // Back where it was before the action: critical, not failed.
    await vi.waitFor(() => expect(plugin.health.component('search')?.status.kind).toBe('critical'), { timeout: 5_000 });
  });
});

describe('live configuration of the running breakers', () => {
  /** The service's health as a number, higher is better (3 healthy .. 0 failed). */
  const score = (plugin: SelfHealing) => () => LEVEL_VALUE.failed - LEVEL_VALUE[plugin.health.systemHealth().status.kind];

  it('changes the running breakers, and rolls a change back by itself when health gets worse within its window', { timeout: 30_000 }, async () => {
    const plugin = startPlugin(); // breakers judge from 4 calls in a window of 10
    // Every fifth call fails: a 20% failure rate.
    const down = await startDownstream((_req, res, n) => {
      res.statusCode = n % 5 === 0 ? 503 : 200;
      res.end();
    });
    for (let i = 0; i < 5; i++) await get(down.url);
    const breaker = plugin.breakers.get(down.origin);
    expect(breaker.options.failureThreshold).toBe(0.5);
    expect(breaker.peekState()).toBe('closed'); // 20% < 50%

    const v2 = plugin.config.applyChange({ kind: 'update', key: 'breaker.failureThreshold', value: 0.2 });
    expect(plugin.breakers.get(down.origin).options.failureThreshold).toBe(0.2);
    // The running breaker acts on it: the same 20% now opens it, and it refuses the next call.
    for (let i = 0; i < 5; i++) await get(down.url);
    expect(breaker.peekState()).toBe('open');
    expect(await get(down.url)).toBe('ECIRCUITOPEN');
    breaker.reset();

    // A change watched by health: the payments service fails within the window, so it goes back.
    const payments = await startDownstream(status(200));
    plugin.health.addCheck('payments', httpCheck(payments.url), { intervalMs: 50, timeoutMs: 500 });
    await vi.waitFor(() => expect(plugin.health.component('payments')).toBeDefined());
    expect(plugin.health.systemHealth().status.kind).toBe('healthy');
    const rolledBack = new Promise<ConfigChangeEvent>((resolve) => plugin.config.onChange((e) => e.type === 'rolled-back' && resolve(e)));
    const v3 = plugin.config.applyChange({ kind: 'update', key: 'breaker.failureThreshold', value: 0.9 }, { verify: { windowMs: 300, healthScore: score(plugin) } });
    expect(breaker.options.failureThreshold).toBe(0.9);
    payments.behave(status(500));

    const event = await rolledBack;
    expect(plugin.health.component('payments')?.status.kind).toBe('failed');
    expect(event).toMatchObject({ from: v3.version, previous: { 'breaker.failureThreshold': 0.9 }, current: { 'breaker.failureThreshold': 0.2 } });
    expect(event.reason).toContain('health score fell');
    expect(plugin.breakers.get(down.origin).options.failureThreshold).toBe(0.2);
    expect(plugin.config.get('breaker.failureThreshold')).toBe(0.2);
    const history = plugin.config.history();
    expect(history.find((e) => e.version === v3.version)?.verification).toMatchObject({ outcome: 'rolled-back', before: 3, after: 0 });
    expect(history.at(-1)).toMatchObject({ cause: 'rollback', parameters: expect.objectContaining({ 'breaker.failureThreshold': 0.2 }) });
    expect(v2.version).toBeLessThan(v3.version);
  });
});

/** One healing of a half-dead pool with telemetry: what the exporters got. */
async function tracedHealing(): Promise<{ origin: string; finished: ReadableSpan[]; logs: InMemoryLogRecordExporter; root: ReadableSpan; failedCalls: Set<string> }> {
  const plugin = startPlugin(POOL_PLUGIN);
  const { spans, logs } = instrument(plugin);
  const h = await halfDeadPool(plugin);
  await h.load.stop();
  const origin = h.server.origin;
  const finished = spans.getFinishedSpans();
  const roots = finished.filter((s) => s.name === 'selfheal.recovery' && s.attributes['selfheal.component.name'] === origin);
  expect(roots).toHaveLength(1);
  // The calls that showed the failure: CLIENT spans of this origin with an ERROR status.
  const failedCalls = new Set(
    finished
      .filter((s) => s.kind === SpanKind.CLIENT && s.status.code === SpanStatusCode.ERROR && String(s.attributes['url.full'] ?? '').startsWith(origin))
      .map((s) => s.spanContext().spanId),
  );
  return { origin, finished, logs, root: roots[0]!, failedCalls };
}

describe('a healing is visible as a trace', () => {
  it('makes one selfheal.recovery trace with attempt and verify children, and a completed log event in it', { timeout: 30_000 }, async () => {
    const { origin, finished, logs, root, failedCalls } = await tracedHealing();
    const named = (name: string): ReadableSpan[] => finished.filter((s) => s.name === name && s.attributes['selfheal.component.name'] === origin);

    expect(root.parentSpanContext).toBeUndefined();
    expect(root.instrumentationScope.name).toBe('otel-self-heal');
    expect(root.attributes).toMatchObject({
      'selfheal.component.name': origin,
      'selfheal.recovery.failure_type': 'error-rate',
      'selfheal.recovery.trigger': 'health',
      'selfheal.health.to': 'failed',
      'selfheal.recovery.outcome': 'recovered',
      'selfheal.recovery.strategies': ['restart'],
      'selfheal.recovery.attempt_count': 1,
      'selfheal.recovery.rolled_back': false,
    });
    expect(root.status.code).not.toBe(SpanStatusCode.ERROR);
    const { traceId, spanId } = root.spanContext();
    const attempts = named('selfheal.recovery.attempt');
    const verifies = named('selfheal.recovery.verify');
    expect(attempts).toHaveLength(1);
    expect(verifies).toHaveLength(1);
    for (const child of [...attempts, ...verifies]) {
      expect(child.spanContext().traceId).toBe(traceId);
      expect(child.parentSpanContext?.spanId).toBe(spanId);
    }
    expect(attempts[0]!.attributes).toMatchObject({ 'selfheal.recovery.strategy': 'restart', 'selfheal.recovery.success': true, 'selfheal.health.from': 'failed' });
    expect(verifies[0]!.attributes).toMatchObject({ 'selfheal.recovery.verified': true, 'selfheal.recovery.verify.source': 'check', 'selfheal.health.to': 'healthy' });

    // The breaker had evidence: health opened it, and its transition span links to failed calls.
    const [opened] = finished.filter(
      (s) => s.name === 'selfheal.breaker.state_change' && s.attributes['selfheal.breaker.name'] === origin && s.attributes['selfheal.breaker.state.to'] === 'open',
    );
    expect(opened?.attributes['selfheal.breaker.reason']).toBe('health-failed');
    expect(opened!.links.length).toBeGreaterThan(0);
    for (const link of opened!.links) expect(failedCalls.has(link.context.spanId)).toBe(true);

    const completedLogs = logs.getFinishedLogRecords().filter((r) => r.eventName === 'selfheal.recovery.completed');
    expect(completedLogs).toHaveLength(1);
    const log = completedLogs[0]!;
    expect(log.spanContext?.traceId).toBe(traceId);
    expect(log.spanContext?.spanId).toBe(spanId);
    expect(log.severityText).toBe('INFO');
    expect(log.attributes).toMatchObject({ 'selfheal.component.name': origin, 'selfheal.recovery.outcome': 'recovered', 'selfheal.recovery.strategies': ['restart'] });
    expect(String(log.body)).toContain('recovered after 1 attempt(s)');
  });

  // The recovery trace links to the failed calls even when health (not the breaker's own failure
  // rate) opened the breaker: health drives the breaker before it tells its listeners.
  it('links the recovery root to the failed calls that made health open the breaker', { timeout: 30_000 }, async () => {
    const { root, failedCalls } = await tracedHealing();
    expect(root.links.length).toBeGreaterThan(0);
    for (const link of root.links) expect(failedCalls.has(link.context.spanId)).toBe(true);
  });
});
