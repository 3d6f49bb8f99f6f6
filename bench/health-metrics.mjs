// Metrics collection benchmark (spec 2.6.5; budgets from the issue): our MetricsCollector against
// the OpenTelemetry SDK's own Histogram.record (same process, same values) and against keeping
// every point (an array, then simple-statistics on it), each figure beside the peer's with a ratio.
//  - recordMetric ns/op: median over rounds of batches of 10,000 calls (typed handle, name only,
//    name + a tags literal per call, name + a hoisted tags object);
//  - aggregation latency: requestAggregation (avg/min/max/p50/p95/p99) over a series holding
//    1,000,000 points spread over an hour, and over 100 series merged by name;
//  - memory per series: heap + array-buffer growth after gc, divided by the series count, for
//    10,000 one-value series and for 200 series with a full hour of values, beside our estimate.
// src/index.ts does not export the metrics component yet, so src/metrics/index.ts is bundled with
// esbuild into a temporary file first. Run: `node bench/health-metrics.mjs` (re-runs itself with
// --expose-gc). BENCH_QUICK=1 for a smoke run.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

if (typeof globalThis.gc !== 'function') {
  const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
const gc = globalThis.gc;
const QUICK = process.env.BENCH_QUICK === '1';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// ---------------------------------------------------------------------------------------------
// Build src/metrics/index.ts (everything bundled, so the temporary file resolves nothing).

const { build } = await import('esbuild');
const dir = mkdtempSync(join(tmpdir(), 'otel-self-heal-bench-'));
const outfile = join(dir, 'metrics.mjs');
await build({
  entryPoints: [join(root, 'src/metrics/index.ts')],
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outfile,
  logLevel: 'error',
  // load.ts uses createRequire(import.meta.url); keep `require` working in the ESM bundle.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});
const { MetricsCollector } = await import(pathToFileURL(outfile).href);
rmSync(dir, { recursive: true, force: true });
const { MeterProvider, MetricReader } = await import('@opentelemetry/sdk-metrics');
const ss = await import('simple-statistics');

// ---------------------------------------------------------------------------------------------
// Helpers

const BATCH = 10_000;
const ROUNDS = QUICK ? 15 : 101;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
};
const pct = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
};
function fakeClock(t = 1_700_000_040_000) {
  const c = { t, now: () => c.t };
  return c;
}
// Log-normal latencies, precomputed so the loops time only the recording.
let seed = 42;
const random = () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
const VALUES = Float64Array.from({ length: 65_536 }, () => Math.exp(3.5 + 0.7 * gauss()));
const MASK = VALUES.length - 1;

/** Median ns per call of `batch(i0)` (which makes BATCH calls), over ROUNDS rounds. */
function nsPerOp(batch) {
  for (let w = 0; w < 20; w++) batch(w * BATCH);
  const samples = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    batch(r * BATCH);
    samples.push(Number(process.hrtime.bigint() - t0) / BATCH);
  }
  return median(samples);
}

class NullReader extends MetricReader {
  async onShutdown() {}
  async onForceFlush() {}
}

// ---------------------------------------------------------------------------------------------
// 1. Recording

// Each part runs in a function of its own, so its state is garbage when the next part measures.
async function benchRecording() {
  const recording = [];
  const c = new MetricsCollector(); // default clock: Date.now per value
  const handle = c.histogram('http.client.duration', { route: '/orders', method: 'GET' });
  const hoisted = { route: '/orders', method: 'GET' };
  const fixed = new MetricsCollector({ clock: fakeClock() }); // the clock read left out, to show its share
  const fixedHandle = fixed.histogram('http.client.duration', { route: '/orders', method: 'GET' });

  const provider = new MeterProvider({ readers: [new NullReader()] });
  const otelHistogram = provider.getMeter('bench').createHistogram('http.client.duration', { unit: 'ms' });
  const attrs = { route: '/orders', method: 'GET' };
  const points = [];

  const ours = {
    handle: nsPerOp((i0) => {
      for (let i = i0; i < i0 + BATCH; i++) handle.record(VALUES[i & MASK]);
    }),
    handleFixedClock: nsPerOp((i0) => {
      for (let i = i0; i < i0 + BATCH; i++) fixedHandle.record(VALUES[i & MASK]);
    }),
    nameOnly: nsPerOp((i0) => {
      for (let i = i0; i < i0 + BATCH; i++) c.recordMetric('queue.wait', VALUES[i & MASK], undefined, 'timer');
    }),
    literal: nsPerOp((i0) => {
      for (let i = i0; i < i0 + BATCH; i++) c.recordMetric('http.server.duration', VALUES[i & MASK], { route: '/orders', method: 'GET' }, 'timer');
    }),
    hoisted: nsPerOp((i0) => {
      for (let i = i0; i < i0 + BATCH; i++) c.recordMetric('http.server.duration', VALUES[i & MASK], hoisted, 'timer');
    }),
  };
  const peer = {
    otelLiteral: nsPerOp((i0) => {
      for (let i = i0; i < i0 + BATCH; i++) otelHistogram.record(VALUES[i & MASK], { route: '/orders', method: 'GET' });
    }),
    otelHoisted: nsPerOp((i0) => {
      for (let i = i0; i < i0 + BATCH; i++) otelHistogram.record(VALUES[i & MASK], attrs);
    }),
    array: nsPerOp((i0) => {
      for (let i = i0; i < i0 + BATCH; i++) points.push(VALUES[i & MASK]);
      if (points.length > 2_000_000) points.length = 0;
    }),
  };
  recording.push(
    ['recordMetric, typed handle (histogram.record)', ours.handle, 'OTel SDK Histogram.record, hoisted attrs', peer.otelHoisted],
    ['  same, without the Date.now read', ours.handleFixedClock, 'OTel SDK Histogram.record, hoisted attrs', peer.otelHoisted],
    ['recordMetric(name, v)', ours.nameOnly, 'array.push(v) (keep every point)', peer.array],
    ['recordMetric(name, v, { 2 tags } literal)', ours.literal, 'OTel SDK Histogram.record, attrs literal', peer.otelLiteral],
    ['recordMetric(name, v, hoisted tags)', ours.hoisted, 'OTel SDK Histogram.record, hoisted attrs', peer.otelHoisted],
  );
  await provider.shutdown();
  return recording;
}

// ---------------------------------------------------------------------------------------------
// 2. Aggregation over 1,000,000 points

const POINTS = QUICK ? 200_000 : 1_000_000;
const HOUR = 3_600_000;
function benchAggregation() {
  const aggregation = [];
  const clock = fakeClock();
  const start = clock.t;
  const c = new MetricsCollector({ clock, maxMemoryBytes: 2 ** 40 });
  const one = c.timer('one.series');
  const step = HOUR / POINTS;
  const all = new Float64Array(POINTS);
  for (let i = 0; i < POINTS; i++) {
    const v = VALUES[i & MASK] * (1 + 0.2 * Math.sin(i / 5_000));
    all[i] = v;
    clock.t = start + i * step; // not +=: at 1.7e12 ms, adding 0.0036 a million times drifts
    one.record(v);
  }
  const merged = Array.from({ length: 100 }, (_, k) => c.timer('many.series', { shard: String(k) }));
  for (let i = 0; i < POINTS; i++) {
    clock.t = start + i * step;
    merged[i % 100].record(VALUES[(i * 7) & MASK]);
  }

  const time = (fn, n) => {
    for (let i = 0; i < 5; i++) fn();
    const ms = [];
    for (let i = 0; i < n; i++) {
      const t0 = process.hrtime.bigint();
      fn();
      ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    return ms;
  };
  const hour = time(() => c.requestAggregation('one.series', HOUR), 200);
  const minute = time(() => c.requestAggregation('one.series', 60_000), 200);
  const hundred = time(() => c.requestAggregation('many.series', HOUR), 50);
  // Peer: keep every point, then exact statistics with simple-statistics (a copy and a sort per query).
  const exact = time(() => {
    const s = Float64Array.from(all).sort();
    return [ss.mean(s), ss.minSorted(s), ss.maxSorted(s), ss.quantileSorted(s, 0.5), ss.quantileSorted(s, 0.95), ss.quantileSorted(s, 0.99)];
  }, QUICK ? 3 : 10);

  const agg = c.requestAggregation('one.series', HOUR);
  const sorted = Float64Array.from(all).sort();
  const relErr = (q, p) => Math.abs(agg[p] - ss.quantileSorted(sorted, q)) / ss.quantileSorted(sorted, q);
  aggregation.push(
    [`requestAggregation, 1 series, ${POINTS / 1e6}M points, last hour`, median(hour), pct(hour, 0.99), 'sort + simple-statistics quantiles', median(exact)],
    ['requestAggregation, 1 series, last minute', median(minute), pct(minute, 0.99), '', undefined],
    [`requestAggregation, 100 series merged, ${POINTS / 1e6}M points`, median(hundred), pct(hundred, 0.99), '', undefined],
  );
  aggregation.accuracy = { count: agg.count, p50: relErr(0.5, 'p50'), p95: relErr(0.95, 'p95'), p99: relErr(0.99, 'p99') };
  return aggregation;
}

// ---------------------------------------------------------------------------------------------
// 3. Memory per series

function heap() {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}
/** Growth of heap + array buffers per series while `fill()`'s collector is alive. */
function measure(fill, n) {
  const before = heap();
  const collector = fill();
  const after = heap();
  return { perSeries: (after - before) / n, estimated: collector.stats().estimatedBytes / n, stats: collector.stats(), total: after - before };
}

function benchMemory() {
  const memory = [];
  const N = QUICK ? 2_000 : 10_000;
  const sparse = measure(() => {
    const c = new MetricsCollector({ clock: fakeClock(), maxMemoryBytes: 2 ** 40 });
    for (let i = 0; i < N; i++) c.recordMetric('rpc.duration', 10 + (i % 100), { peer: `svc-${i}`, method: 'GET' }, 'timer');
    return c;
  }, N);
  memory.push([`${N.toLocaleString()} series, 2 tags, 1 value each`, sparse.perSeries, sparse.estimated, '1 point', 8]);

  const BUSY = QUICK ? 20 : 200;
  const busyHour = (series, everyMs, options) => () => {
    const clock = fakeClock();
    const c = new MetricsCollector({ clock, ...options });
    const handles = Array.from({ length: series }, (_, k) => c.timer('db.duration', { table: `t${k}` }));
    for (let t = 0; t < HOUR; t += everyMs) {
      clock.t += everyMs;
      for (let k = 0; k < series; k++) handles[k].record(VALUES[(t / everyMs + k * 31) & MASK]);
    }
    return c;
  };
  const busy = measure(busyHour(BUSY, 250, { maxMemoryBytes: 2 ** 40 }), BUSY);
  memory.push([`${BUSY} series, a value every 250 ms for an hour`, busy.perSeries, busy.estimated, '14,400 points', 14_400 * 8]);
  const RATE = QUICK ? 100 : 1_000;
  const HOT = 4; // a few, so the code of the loop itself is not a large part of the figure
  const hot = measure(() => {
    const clock = fakeClock();
    const start = clock.t;
    const c = new MetricsCollector({ clock, maxMemoryBytes: 2 ** 40 });
    const handles = Array.from({ length: HOT }, (_, k) => c.timer('http.client.duration', { peer: `api-${k}` }));
    const n = HOUR * (RATE / 1_000);
    for (let i = 0; i < n; i++) {
      clock.t = start + (i * 1_000) / RATE;
      for (let k = 0; k < HOT; k++) handles[k].record(VALUES[(i + k * 977) & MASK]);
    }
    return c;
  }, HOT);
  memory.push([`${HOT} series, ${RATE.toLocaleString()} values/s for an hour`, hot.perSeries, hot.estimated, `${(RATE * 3_600).toLocaleString()} points`, RATE * 3_600 * 8]);
  // The default budget (50 MB) under 5× that load: evictions keep it there.
  const capped = measure(busyHour(BUSY * 5, 1_000, {}), BUSY * 5);
  memory.capped = {
    series: BUSY * 5,
    heap: capped.total,
    estimated: capped.stats.estimatedBytes,
    evicted: capped.stats.evicted,
    trimmed: capped.stats.trimmedBuckets,
    held: capped.stats.series,
  };
  return memory;
}

const recording = await benchRecording();
gc();
const aggregation = benchAggregation();
gc();
const memory = benchMemory();

// ---------------------------------------------------------------------------------------------
// Report

const f = (x, d = 1) => (x === undefined ? '' : x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);

const load = loadavg()[0].toFixed(1);
console.log(`\nMetricsCollector benchmark — Node ${process.version}, ${cpus().length} CPUs, load ${load} at the end, ${QUICK ? 'QUICK' : 'full'} run\n`);
console.log('Recording (median ns per value; bar: < 1,000 ns)');
console.log(`${pad('ours', 46)}${lpad('ns/op', 9)}   ${pad('peer', 42)}${lpad('ns/op', 9)}${lpad('ratio', 8)}   bar`);
for (const [name, ns, peerName, peerNs] of recording) {
  console.log(`${pad(name, 46)}${lpad(f(ns), 9)}   ${pad(peerName, 42)}${lpad(f(peerNs), 9)}${lpad(f(ns / peerNs, 2), 8)}   ${ns < 1_000 ? 'PASS' : 'FAIL'}`);
}

console.log('\nAggregation query (ms; bar: median < 10 ms)');
console.log(`${pad('ours', 62)}${lpad('median', 9)}${lpad('p99', 9)}   ${pad('peer', 36)}${lpad('median', 9)}${lpad('ratio', 9)}   bar`);
for (const [name, med, p99, peerName, peerMed] of aggregation) {
  console.log(
    `${pad(name, 62)}${lpad(f(med, 3), 9)}${lpad(f(p99, 3), 9)}   ${pad(peerName, 36)}${lpad(f(peerMed, 1), 9)}${lpad(peerMed ? f(med / peerMed, 4) : '', 9)}   ${med < 10 ? 'PASS' : 'FAIL'}`,
  );
}
const acc = aggregation.accuracy;
console.log(
  `  accuracy vs exact (simple-statistics): count ${acc.count.toLocaleString()}, p50 ${f(acc.p50 * 100, 2)} %, p95 ${f(acc.p95 * 100, 2)} %, p99 ${f(acc.p99 * 100, 2)} % relative error`,
);

console.log('\nState memory per series (bytes; heap + array buffers after gc, and our own estimate)');
console.log(`${pad('load', 46)}${lpad('measured', 10)}${lpad('estimate', 10)}   ${pad('peer: every point as a float64', 34)}${lpad('bytes', 12)}`);
for (const [name, measured, estimate, peerName, peerBytes] of memory) {
  console.log(`${pad(name, 46)}${lpad(f(measured, 0), 10)}${lpad(f(estimate, 0), 10)}   ${pad(peerName, 34)}${lpad(peerBytes.toLocaleString(), 12)}`);
}
const cap = memory.capped;
console.log(
  `  default budget (50 MB), ${cap.series} series × 1 value/s for an hour: heap growth ${f(cap.heap / 1e6)} MB, estimate ${f(cap.estimated / 1e6)} MB, ${cap.held} series held, ${cap.evicted} evicted, ${cap.trimmed.toLocaleString()} old buckets trimmed  ${cap.heap < 50e6 * 1.1 ? 'PASS' : 'CHECK'}`,
);
console.log('');
