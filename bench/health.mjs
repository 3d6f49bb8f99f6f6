// npm run bench:health — the health monitor's costs, measured beside what every setup already runs.
//   1. onEnd per span: our HealthSpanProcessor vs a BatchSpanProcessor with a no-op exporter
//      (same run, interleaved rounds, CPU time), on CLIENT spans like instrumentation-http's.
//   2. Memory for 1,000 monitored components.
//   3. False positives of the status on healthy, noisy traffic (simulated, seeded).
//   4. End to end: a real downstream called at 50 rps starts failing; time until its component is
//      failed and its breaker open (NodeSDK + the official undici instrumentation + fetch).
// Then runs bench/health-metrics.mjs (MetricsCollector: recordMetric and aggregation).
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { HealthMonitor, HealthSpanProcessor, RedactingSpanProcessor, createAnomalyDetector } from '../dist/index.js';

const QUICK = process.env.BENCH_QUICK === '1';
const gc = globalThis.gc ?? (() => {});
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000; // ns
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n) => Math.round(n).toLocaleString('en-US');

// ---------- 1. span processor cost ----------
function makeProvider(kind) {
  const processors = [];
  if (kind === 'batch') processors.push(new BatchSpanProcessor({ export: (_s, cb) => cb({ code: 0 }), shutdown: async () => {} }, { maxQueueSize: 1 << 20, scheduledDelayMillis: 200 }));
  if (kind === 'health') processors.push(new HealthSpanProcessor(new HealthMonitor(), async () => {}));
  if (kind === 'redact') processors.push(new RedactingSpanProcessor());
  return new BasicTracerProvider({ spanProcessors: processors });
}
const variants = ['none', 'batch', 'health', 'redact'];
const tracers = Object.fromEntries(variants.map((v) => [v, makeProvider(v).getTracer('bench')]));
const hosts = Array.from({ length: 16 }, (_, i) => `svc-${i}.internal`);
function spanLoop(tracer, n) {
  for (let i = 0; i < n; i++) {
    const span = tracer.startSpan('GET', {
      kind: SpanKind.CLIENT,
      // One in four URLs carries a query (the redactor rewrites those), as a realistic share.
      attributes: { 'http.request.method': 'GET', 'server.address': hosts[i & 15], 'server.port': 8080, 'url.full': i & 3 ? 'http://x/y' : 'http://x/y?token=abc', 'http.response.status_code': i % 50 ? 200 : 503 },
    });
    if (i % 50 === 0) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  }
}
async function spanBench() {
  const n = QUICK ? 20_000 : 100_000;
  const rounds = QUICK ? 5 : 15;
  const per = Object.fromEntries(variants.map((v) => [v, []]));
  for (const v of variants) spanLoop(tracers[v], 5_000); // warm up
  for (let r = 0; r < rounds; r++) {
    const order = variants.map((_, i) => variants[(i + r) % variants.length]);
    for (const v of order) {
      gc();
      await new Promise((res) => setImmediate(res));
      const t = cpu();
      for (let k = 0; k < n; k += 1000) {
        spanLoop(tracers[v], 1000);
        if (k % 10_000 === 0) await new Promise((res) => setImmediate(res));
      }
      per[v].push((cpu() - t) / n);
    }
  }
  const base = per.none;
  const over = (v) => median(per[v].map((x, i) => x - base[i]));
  const batch = over('batch');
  const health = over('health');
  const redact = over('redact');
  console.log('\n1. Span processor cost (CPU ns per CLIENT span, create+end; overhead = median of per-round differences vs no processor)');
  console.log(`   no processor                 ${fmt(median(base))} ns/span`);
  console.log(`   BatchSpanProcessor (no-op)   +${fmt(batch)} ns/span`);
  console.log(`   HealthSpanProcessor          +${fmt(health)} ns/span`);
  console.log(`   RedactingSpanProcessor       +${fmt(redact)} ns/span (1 URL in 4 with a query to drop)`);
  console.log(`   ratio health / batch: ${(health / batch).toFixed(2)}x   bar <= 1x: ${health <= batch ? 'PASS' : 'FAIL'}`);
  console.log(`   ratio redact / batch: ${(redact / batch).toFixed(2)}x   bar <= 1x: ${redact <= batch ? 'PASS' : 'FAIL'}`);
}

// ---------- 2. memory ----------
function memoryBench() {
  gc();
  gc();
  const before = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  const monitor = new HealthMonitor({ maxComponents: 2000 });
  for (let c = 0; c < 1000; c++) for (let i = 0; i < 20; i++) monitor.observe(`http://svc-${c}.internal:8080`, 'downstream', i === 0, 10 + i);
  for (let s = 0; s < 5; s++) monitor.evaluate();
  gc();
  gc();
  const after = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  console.log('\n2. Memory for 1,000 monitored components (heap + array buffers, after traffic and evaluation)');
  console.log(`   total ${fmt((after - before) / 1024)} KiB, ${fmt((after - before) / 1000)} bytes per component (${monitor.list().length} components)`);
  // Each downstream's latency anomaly detector (the first health.maxAnomalyDetectors, default 100).
  const detectors = [];
  gc();
  gc();
  const b2 = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  for (let d = 0; d < 100; d++) {
    const det = createAnomalyDetector();
    for (let i = 0; i < 2000; i++) det.update(50 + (i % 7), i * 1000);
    detectors.push(det);
  }
  gc();
  gc();
  const a2 = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  console.log(`   plus ${fmt((a2 - b2) / 100 / 1024)} KiB per latency anomaly detector (100 detectors after 2,000 values each: ${fmt((a2 - b2) / 1024)} KiB)`);
  return [monitor, detectors]; // both stay reachable until every figure is taken
}

// ---------- 3. false positives ----------
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function falsePositives(rps, minutes, seed) {
  const random = rng(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  let now = 0;
  const monitor = new HealthMonitor({}, { clock: { now: () => now }, detector: () => createAnomalyDetector() });
  let evaluations = 0;
  let unhealthy = 0;
  for (let t = 0; t < minutes * 60_000; t += 250) {
    const calls = Math.round((rps * 250) / 1000 + (random() - 0.5));
    for (let i = 0; i < calls; i++) {
      now = t + (i * 250) / (calls + 1);
      const latency = random() < 0.003 ? 800 : 50 * Math.exp(0.7 * normal());
      monitor.observe('http://steady:80', 'downstream', random() < 0.01, latency);
    }
    now = t + 250;
    monitor.evaluate();
    if (t > 10_000) {
      evaluations++;
      if (monitor.component('http://steady:80')?.status.kind !== 'healthy') unhealthy++;
    }
  }
  return { evaluations, unhealthy };
}
function falsePositiveBench() {
  console.log('\n3. False positives on healthy traffic (1% errors, log-normal latency median 50 ms, 0.3% 800 ms pauses; seeded; anomaly detector on)');
  for (const rps of [50, 5, 1]) {
    const { evaluations, unhealthy } = falsePositives(rps, QUICK ? 5 : 60, 7 + rps);
    console.log(`   ${String(rps).padStart(3)} calls/s: ${unhealthy} of ${evaluations} evaluations not healthy = ${((unhealthy / evaluations) * 100).toFixed(3)}%   bar < 1%: ${unhealthy / evaluations < 0.01 ? 'PASS' : 'FAIL'}`);
  }
}

// ---------- 4. end-to-end detection (child process with NodeSDK) ----------
function e2eBench() {
  const r = spawnSync(process.execPath, [new URL('./health-e2e.mjs', import.meta.url).pathname], {
    env: { ...process.env, OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  process.stdout.write(r.stdout);
  if (r.status !== 0) process.stderr.write(r.stderr);
}

await spanBench();
memoryBench();
falsePositiveBench();
e2eBench();
const metrics = spawnSync(process.execPath, [new URL('./health-metrics.mjs', import.meta.url).pathname], { stdio: 'inherit', env: process.env });
process.exitCode = metrics.status ?? 0;
void http;
