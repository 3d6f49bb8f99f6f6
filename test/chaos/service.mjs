// The service under chaos, forked by test/chaos/harness.ts: a stock NodeSDK set-up plus the one
// line of otel-self-heal, loaded from the built package (dist/) the way an application loads it,
// then the application (app.mjs). The harness talks to it over IPC: this file reports what the
// plugin sees (health changes, breaker transitions, recoveries, and a snapshot of every component
// every `snapshotEveryMs`) and obeys commands (a CPU spike, stop). Settings: CHAOS_SERVICE (JSON).
import { register } from 'node:module';
import { performance } from 'node:perf_hooks';

// ESM apps: the loader hook lets the official instrumentations see `import`ed modules.
register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);

const config = JSON.parse(process.env.CHAOS_SERVICE ?? '{}');
const { NodeSDK } = await import('@opentelemetry/sdk-node');
const { withSelfHealing, getSelfHealing } = await import('otel-self-heal');

const sdk = new NodeSDK(
  withSelfHealing(
    { serviceName: 'chaos-service' },
    {
      // Calls answer in milliseconds here: a breaker may judge from a short window, and probe
      // again soon after it opens.
      breaker: { minimumRequests: 5, windowSize: 20, resetTimeout: 1_000, maxResetTimeout: 4_000 },
      // Restarting a connection pool cures a stale pool, not a dependency that is down: retry
      // the restart (each one verified) until the dependency answers again, rather than handing
      // it to a person after two tries as the default plan does.
      recovery: {
        plans: [{ failureType: '*', primary: 'restart', maxRetries: 30, retryDelayMs: 500, backoffMultiplier: 1.5 }],
        maxRetryDelayMs: 3_000,
      },
    },
  ),
);
sdk.start();

const plugin = getSelfHealing();
const send = (message) => {
  if (process.connected) process.send(message);
};

plugin.health.onChange((c) =>
  send({ type: 'health', t: c.timestamp, component: c.component, from: c.from.kind, to: c.to.kind, reason: c.to.reason }),
);
plugin.breakers.onStateChange((c) => send({ type: 'breaker', t: c.timestamp, name: c.breaker, from: c.from, to: c.to, reason: c.reason }));
plugin.recovery.on('recovery-started', (e) =>
  send({ type: 'recovery', event: 'started', t: Date.now(), component: e.component, failureType: e.failureType, strategies: e.strategies }),
);
plugin.recovery.on('attempt-finished', (e) =>
  send({ type: 'recovery', event: 'attempt', t: Date.now(), component: e.component, strategy: e.strategy, success: e.result.success, error: e.result.error }),
);
plugin.recovery.on('recovery-completed', (e) =>
  send({
    type: 'recovery',
    event: 'completed',
    t: Date.now(),
    component: e.component,
    outcome: e.outcome.outcome,
    reason: e.outcome.reason,
    detail: e.outcome.detail,
    attempts: e.outcome.attempts.length,
    durationMs: e.outcome.durationMs,
    detectedAt: e.trigger.detectedAt,
  }),
);

const { startApp } = await import('./app.mjs');
const app = await startApp(config);

// Each snapshot also says how the service's process fared since the last one: the share of the
// time its event loop was busy, and the CPU time it got in that time (1 = a whole core). Busy
// without CPU is time spent waiting for a core: the machine, not the service.
let lastElu = performance.eventLoopUtilization();
let lastCpu = process.cpuUsage();
let lastAt = performance.now();
const snapshots = setInterval(() => {
  const elu = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  const now = performance.now();
  const cpuMs = (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000;
  send({
    type: 'snapshot',
    t: Date.now(),
    health: plugin.health.list().map((c) => [c.name, c.status.kind]),
    breakers: plugin.breakers.list().map((b) => [b.name, b.peekState()]),
    busy: performance.eventLoopUtilization(elu, lastElu).utilization,
    cpu: cpuMs / (now - lastAt),
  });
  [lastElu, lastCpu, lastAt] = [elu, cpu, now];
}, config.snapshotEveryMs ?? 250);
snapshots.unref();

/**
 * A CPU spike: the main thread burns in `busyMs` slices with `idleMs` breaks, so timers and I/O
 * still get a turn now and then, as under a hot loop in a request handler or a runaway GC.
 */
async function cpuSpike(durationMs, busyMs = 200, idleMs = 10) {
  const end = performance.now() + durationMs;
  while (performance.now() < end) {
    const until = Math.min(end, performance.now() + busyMs);
    while (performance.now() < until) {
      // burning
    }
    await new Promise((resolve) => setTimeout(resolve, idleMs));
  }
}

process.on('message', (m) => {
  if (m?.cmd === 'cpu') {
    void cpuSpike(m.durationMs).then(() => send({ type: 'cpu-done', t: Date.now() }));
  } else if (m?.cmd === 'stop') {
    clearInterval(snapshots);
    const stats = app.stats();
    void app
      .close()
      .then(() => sdk.shutdown())
      .catch((err) => console.error('chaos service: shutdown failed', err))
      .finally(() => {
        if (process.connected) process.send({ type: 'stopped', stats }, () => process.exit(0));
        else process.exit(0);
      });
  }
});
// The harness is gone: nobody is left to stop us.
process.on('disconnect', () => process.exit(0));

send({ type: 'ready', port: app.port, instrumentations: plugin.instrumentations.map((i) => i.instrumentationName) });
