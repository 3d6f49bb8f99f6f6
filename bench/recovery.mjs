// npm run bench:recovery — issue 4 (spec 4.2.2 Self-Healing Flow), against the built package.
//
// A real downstream on 127.0.0.1 whose pooled keep-alive sockets go half-dead (open, never
// answered again; new connections are served), called through node:http's global agent at a
// steady 50 calls/s with a 200 ms client timeout. A stock NodeSDK + withSelfHealing (official
// HTTP instrumentation, health from spans, recovery attached) must notice and heal it. Per run:
//   health failed -> recovery attempt-started (bar < 200 ms)
//   health failed -> recovery-completed, outcome recovered, verified (bar < 5 s for a restart)
// Beside it, the same plugin with recovery stopped (breaker and health only): how long until the
// calls succeed again, from the fault.
//
// Options: recovery triggers on `failed` only (by default it also triggers on `critical`, earlier,
// and then `failed` may never come), and breakers are opened by health alone (a window too large
// to trip by itself), so the clock starts at the failure named above. Everything else is default.
import { createRequire } from 'node:module';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { getSelfHealing, withSelfHealing } from '../dist/index.js';

const RUNS = Number(process.env.RUNS ?? 10);
const CONTROL_RUNS = Number(process.env.CONTROL_RUNS ?? 2);
const RPS = 50;
const CLIENT_TIMEOUT_MS = 200;
/** Half-dead sockets: draining them one timeout at a time takes POOL / RPS = 4 s. */
const POOL = 200;
/** Calls in a row that count as restored. */
const RESTORED_STREAK = 10;
const RUN_TIMEOUT_MS = 15_000;
const CONTROL_CAP_MS = 10_000;
const BAR_START_MS = 200;
const BAR_RECOVERED_MS = 5_000;

for (const signal of ['TRACES', 'METRICS', 'LOGS']) process.env[`OTEL_${signal}_EXPORTER`] ??= 'none';

const sdk = new NodeSDK(
  withSelfHealing(
    {
      spanProcessors: [],
      metricReaders: [],
      // The downstream stands for another service: its incoming requests are not this service's routes.
      instrumentations: [new HttpInstrumentation({ disableIncomingRequestInstrumentation: true })],
      autoDetectResources: false,
    },
    { breaker: { minimumRequests: 1000, windowSize: 1000 }, recovery: { triggerOn: ['failed'] } },
  ),
);
sdk.start();
// Required after sdk.start(), as an application's modules are, so the HTTP instrumentation sees it.
const require = createRequire(import.meta.url);
const http = require('node:http');
const { version } = require('../package.json');
const plugin = getSelfHealing();

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** One GET through the global keep-alive agent: 'ok', 'timeout' or the error code. */
function get(url, timeoutMs = 2_000) {
  return new Promise((resolve) => {
    let timedOut = false;
    const req = http.get(url, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? 'ok' : String(res.statusCode)));
      res.on('close', () => resolve('aborted'));
    });
    req.setTimeout(timeoutMs, () => {
      timedOut = true;
      req.destroy();
    });
    req.on('error', (err) => resolve(timedOut ? 'timeout' : (err.code ?? err.message)));
  });
}

/** A keep-alive server whose open connections `zombify()` leaves up but never answers again. */
async function startPoolServer() {
  const open = new Set();
  const zombies = new Set();
  const app = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    if (!zombies.has(req.socket)) res.end('ok');
  });
  const listener = net.createServer((socket) => {
    open.add(socket);
    socket.on('close', () => {
      open.delete(socket);
      zombies.delete(socket);
    });
    app.emit('connection', socket);
  });
  await new Promise((r) => listener.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${listener.address().port}`;
  return {
    origin,
    url: `${origin}/`,
    zombify: () => {
      for (const s of open) zombies.add(s);
    },
    close() {
      for (const s of open) s.destroy();
      return new Promise((r) => listener.close(r));
    },
  };
}

/**
 * One fault: a warm pool of POOL connections goes half-dead under steady load. Resolves with the
 * times (performance.now()) of each step, or undefined for a step that did not happen in time.
 */
async function run(capMs) {
  const server = await startPoolServer();
  const origin = server.origin;
  const t = { fault: 0, failed: undefined, attempt: undefined, recovered: undefined, restored: undefined, outcome: undefined };
  // The recovery manager hears the health change first (it was attached when the plugin was
  // made), in the same synchronous dispatch: recovery-started stamps the failure as closely.
  const stampFailed = () => (t.failed ??= performance.now());
  const offs = [
    plugin.health.onChange((c) => c.component === origin && c.to.kind === 'failed' && stampFailed()),
    plugin.recovery.on('recovery-started', (e) => e.component === origin && e.trigger.status.kind === 'failed' && stampFailed()),
    plugin.recovery.on('attempt-started', (e) => e.component === origin && (t.attempt ??= performance.now())),
    plugin.recovery.on('recovery-completed', (e) => {
      if (e.component !== origin) return;
      t.outcome ??= e.outcome.outcome;
      if (e.outcome.outcome === 'recovered') t.recovered ??= performance.now();
    }),
  ];

  const warm = await Promise.all(Array.from({ length: POOL }, () => get(server.url)));
  if (!warm.every((r) => r === 'ok')) throw new Error(`warm-up failed: ${warm.find((r) => r !== 'ok')}`);
  let streak = 0;
  let faulted = false;
  const pending = new Set();
  const load = setInterval(() => {
    const p = get(server.url, CLIENT_TIMEOUT_MS).then((r) => {
      streak = r === 'ok' ? streak + 1 : 0;
      if (faulted && streak === RESTORED_STREAK) t.restored ??= performance.now();
    });
    pending.add(p);
    p.finally(() => pending.delete(p));
  }, 1000 / RPS);
  while (streak < RESTORED_STREAK) await sleep(10);

  t.fault = performance.now();
  server.zombify();
  faulted = true;
  streak = 0;
  const deadline = t.fault + capMs;
  while (performance.now() < deadline && (t.restored === undefined || (plugin.recovery.isRunning && t.outcome === undefined))) await sleep(10);

  clearInterval(load);
  await Promise.all(pending);
  for (const off of offs) off();
  await server.close();
  http.globalAgent.destroy();
  return t;
}

const since = (from, to) => (from === undefined || to === undefined ? undefined : to - from);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (ms) => (ms === undefined ? '—' : ms < 10 ? `${ms.toFixed(2)} ms` : `${ms.toFixed(0)} ms`);
const pad = (s, n) => String(s).padEnd(n);

console.log(`otel-self-heal ${version} recovery bench, Node ${process.version}`);
console.log(
  `A warm pool of ${POOL} keep-alive sockets goes half-dead under ${RPS} calls/s (client timeout ${CLIENT_TIMEOUT_MS} ms); ${RUNS} runs with recovery, ${CONTROL_RUNS} without.\n`,
);

const runs = [];
for (let i = 0; i < RUNS; i++) {
  const r = await run(RUN_TIMEOUT_MS);
  runs.push(r);
  console.log(
    `  run ${pad(i + 1, 3)} failed after ${pad(fmt(since(r.fault, r.failed)), 8)}  -> attempt-started ${pad(fmt(since(r.failed, r.attempt)), 9)}  -> recovered ${pad(fmt(since(r.failed, r.recovered)), 8)}  (outcome ${r.outcome ?? 'none'}; calls restored ${fmt(since(r.fault, r.restored))} after the fault)`,
  );
}

// The peer: the same plugin, recovery stopped. Health still marks the pool failed and opens its
// breaker; the half-dead sockets go only as calls time out on them, one by one.
await plugin.recovery.stop();
const control = [];
for (let i = 0; i < CONTROL_RUNS; i++) {
  const r = await run(CONTROL_CAP_MS);
  control.push(r);
  console.log(`  without recovery, run ${i + 1}: failed after ${fmt(since(r.fault, r.failed))}; calls restored ${r.restored === undefined ? `not within ${CONTROL_CAP_MS} ms` : `${fmt(since(r.fault, r.restored))} after the fault`}`);
}

await sdk.shutdown();

let ok = true;
function row(label, values, bar) {
  const complete = values.every((v) => v !== undefined);
  const max = complete ? Math.max(...values) : undefined;
  const pass = complete && max < bar;
  ok &&= pass;
  console.log(`${pad(label, 48)}${pad(fmt(complete ? median(values) : undefined), 11)}${pad(fmt(max), 11)}${pad(`< ${bar} ms`, 11)}${pass ? 'PASS' : `FAIL${complete ? '' : ' (a run never got there)'}`}`);
}
console.log(`\n${pad('', 48)}${pad('median', 11)}${pad('max', 11)}${pad('bar (max)', 11)}`);
row('health failed -> recovery attempt-started', runs.map((r) => since(r.failed, r.attempt)), BAR_START_MS);
row('health failed -> recovered (restart, verified)', runs.map((r) => since(r.failed, r.recovered)), BAR_RECOVERED_MS);

const restoredWith = runs.map((r) => since(r.fault, r.restored)).filter((v) => v !== undefined);
const restoredWithout = control.map((r) => since(r.fault, r.restored) ?? Infinity);
const withMedian = restoredWith.length ? median(restoredWith) : undefined;
const withoutMedian = restoredWithout.length ? median(restoredWithout) : undefined;
const without = withoutMedian === undefined ? '—' : Number.isFinite(withoutMedian) ? fmt(withoutMedian) : `> ${CONTROL_CAP_MS} ms`;
const ratio =
  withMedian === undefined || withoutMedian === undefined
    ? '—'
    : `${Number.isFinite(withoutMedian) ? '' : '>= '}${((Number.isFinite(withoutMedian) ? withoutMedian : CONTROL_CAP_MS) / withMedian).toFixed(1)}x`;
console.log(
  `\nfault -> calls restored (${RESTORED_STREAK} ok in a row), median: with recovery ${fmt(withMedian)}; without (breaker + health only) ${without}; ratio ${ratio}`,
);
process.exitCode = ok ? 0 : 1;
