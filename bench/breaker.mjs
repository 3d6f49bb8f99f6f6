// Breaker micro-benchmark: our CircuitBreaker against cockatiel 3.2.1 and opossum 9.0.0, all in one
// process, measured the way research/resilience.md §1 describes, so its figures and ours compare:
//  - interleaved rounds, variant order rotated each round; overhead = median over rounds of
//    (variant − baseline) from the same round, baseline `await fn()` with `fn = async () => 1`;
//  - every variant runs in its own loop compiled with `new Function`, and against its own copy of
//    its library (fresh module instance), so no call site is shared between variants;
//  - loops yield with setImmediate every 10,000 calls, so library timers run as in a server;
//  - process CPU time (user+system) is the primary metric, wall time the secondary.
// Run: `npm run bench:breaker` (needs --expose-gc). `BENCH_QUICK=1` for a smoke run.

import { createHook } from 'node:async_hooks';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { CircuitBreaker, CircuitBreakerRegistry } from '../dist/index.js';
import { fmt, interleavedRounds, median, table } from './lib.mjs';

if (typeof globalThis.gc !== 'function') {
  console.error('bench/breaker.mjs needs --expose-gc (run it with `npm run bench:breaker`)');
  process.exit(1);
}
const gc = globalThis.gc;
const require = createRequire(import.meta.url);

const QUICK = process.env.BENCH_QUICK === '1';
const ROUNDS = 5;
const CLOSED_N = QUICK ? 50_000 : 1_000_000;
const OPEN_N = QUICK ? 20_000 : 200_000;
const YIELD_EVERY = 10_000;
const BREAKERS = 10_000;
const HEAP_ROUNDS = QUICK ? 1 : 3;
const LONG = 3_600_000; // ms; keeps every peer's reset/half-open timer out of the measured window

const fn = async () => 1;
const tick = () => new Promise((resolve) => setImmediate(resolve));

// ---------------------------------------------------------------------------------------------
// Fresh library instances: one per variant, so code inside a library is not shared either.

let instance = 0;
/** Our package, as a separate ESM module instance (the query string makes a new module record). */
const freshOurs = () => import(`../dist/index.js?instance=${++instance}`);

/** A CommonJS package loaded again from scratch: its cached modules are dropped first. */
function freshRequire(pkg) {
  const root = dirname(require.resolve(`${pkg}/package.json`));
  for (const key of Object.keys(require.cache)) if (key.startsWith(root)) delete require.cache[key];
  return require(pkg);
}

const opossumBreakers = [];
function opossum(lib, options) {
  const b = new lib(fn, { resetTimeout: LONG, ...options });
  opossumBreakers.push(b);
  return b;
}
const OPOSSUM_LEAN = { timeout: false, rollingPercentilesEnabled: false, enableSnapshots: false };

// ---------------------------------------------------------------------------------------------
// Loops

/** A loop of its own: `new Function` compiles fresh code, so its call sites only ever see one target. */
function makeLoop(body) {
  const factory = new Function(
    't',
    'fn',
    'tick',
    `return async function loop(n) {
      let s = 0;
      for (let i = 1; i <= n; i++) {
        ${body}
        if (i % ${YIELD_EVERY} === 0) await tick();
      }
      return s;
    };`,
  );
  return (target) => factory(target, fn, tick);
}
const CALL_SUCCESS = {
  baseline: 's += await fn();',
  ours: 's += await t.call(fn);',
  oursPermit: 'const p = t.tryAcquire(); s += await fn(); t.recordSuccess(p);',
  cockatiel: 's += await t.execute(fn);',
  opossum: 's += await t.fire();',
};
const CALL_REJECTED = {
  baseline: 's += await fn();',
  ours: 'try { await t.call(fn); } catch (e) { s++; }',
  cockatiel: 'try { await t.execute(fn); } catch (e) { s++; }',
  opossum: 'try { await t.fire(); } catch (e) { s++; }',
};

async function measure(loop, n) {
  gc(); // garbage of the previous variant is not charged to this one
  const c0 = process.cpuUsage();
  const w0 = process.hrtime.bigint();
  const s = await loop(n);
  const wall = Number(process.hrtime.bigint() - w0);
  const c = process.cpuUsage(c0);
  if (!(s > 0)) throw new Error('loop did no work');
  return { cpu: ((c.user + c.system) * 1000) / n, wall: wall / n };
}

/**
 * Runs every variant `ROUNDS` times, rotating the order each round. A variant is
 * `{ name, loop, n }`; the first one is the baseline. Returns per-variant medians of the absolute
 * per-call cost and of (variant − baseline of the same round).
 */
async function interleaved(variants) {
  for (const v of variants) await v.loop(Math.max(YIELD_EVERY, Math.floor(v.n / 10))); // warm-up
  return interleavedRounds(variants, ROUNDS, (v) => measure(v.loop, v.n));
}

// ---------------------------------------------------------------------------------------------
// 1. Closed state, success path

async function closedState() {
  const ours = async (options) => new (await freshOurs()).CircuitBreaker('bench', options);
  const cockatiel = (makeBreaker) => {
    const c = freshRequire('cockatiel');
    return c.circuitBreaker(c.handleAll, { halfOpenAfter: LONG, breaker: makeBreaker(c) });
  };
  const variants = [
    { name: 'baseline: await fn()', kind: 'baseline', target: null },
    { name: 'ours, count window (defaults)', kind: 'ours', target: await ours() },
    { name: 'ours, time window (10 s)', kind: 'ours', target: await ours({ windowType: 'time', windowSize: 10 }) },
    { name: 'ours, tryAcquire+recordSuccess [info]', kind: 'oursPermit', target: await ours() },
    {
      name: 'cockatiel ConsecutiveBreaker(5)',
      kind: 'cockatiel',
      target: cockatiel((c) => new c.ConsecutiveBreaker(5)),
    },
    {
      name: 'cockatiel SamplingBreaker(0.5, 10 s)',
      kind: 'cockatiel',
      target: cockatiel((c) => new c.SamplingBreaker({ threshold: 0.5, duration: 10_000 })),
    },
    { name: 'opossum default', kind: 'opossum', target: opossum(freshRequire('opossum')), scale: 0.25 },
    { name: 'opossum lean', kind: 'opossum', target: opossum(freshRequire('opossum'), OPOSSUM_LEAN) },
  ];
  return interleaved(
    variants.map((v) => ({
      name: v.name,
      n: Math.round(CLOSED_N * (v.scale ?? 1)),
      loop: makeLoop(CALL_SUCCESS[v.kind])(v.target),
    })),
  );
}

// ---------------------------------------------------------------------------------------------
// 2. Open state, fast-fail path (the caller awaits and catches)

async function openState() {
  const ours = new (await freshOurs()).CircuitBreaker('bench');
  ours.forceOpen();
  const c = freshRequire('cockatiel');
  const cockatiel = c.circuitBreaker(c.handleAll, { halfOpenAfter: LONG, breaker: new c.ConsecutiveBreaker(5) });
  cockatiel.isolate(); // held open; each call rejects with a new IsolatedCircuitError
  const opDefault = opossum(freshRequire('opossum'));
  const opLean = opossum(freshRequire('opossum'), OPOSSUM_LEAN);
  opDefault.open();
  opLean.open();
  const variants = [
    { name: 'baseline: await fn()', kind: 'baseline', target: null },
    { name: 'ours, forceOpen()', kind: 'ours', target: ours },
    { name: 'cockatiel Consecutive, isolate()', kind: 'cockatiel', target: cockatiel },
    { name: 'opossum default, open()', kind: 'opossum', target: opDefault },
    { name: 'opossum lean, open()', kind: 'opossum', target: opLean },
  ];
  const rows = await interleaved(variants.map((v) => ({ name: v.name, n: OPEN_N, loop: makeLoop(CALL_REJECTED[v.kind])(v.target) })));
  if (ours.state !== 'open' || !opDefault.opened || !opLean.opened) throw new Error('a breaker left the open state during the run');
  return rows;
}

// ---------------------------------------------------------------------------------------------
// 3. Heap and timers per breaker

function breakerKinds() {
  const c = require('cockatiel');
  const O = require('opossum');
  return [
    { name: 'ours, new CircuitBreaker(name)', ours: true, setup: () => (name) => new CircuitBreaker(name), call: (b) => b.call(fn) },
    {
      name: 'ours, registry.get(name)',
      ours: true,
      setup: () => {
        const registry = new CircuitBreakerRegistry();
        return (name) => registry.get(name);
      },
      call: (b) => b.call(fn),
    },
    {
      name: 'cockatiel Consecutive(5)',
      setup: () => () => c.circuitBreaker(c.handleAll, { halfOpenAfter: LONG, breaker: new c.ConsecutiveBreaker(5) }),
      call: (b) => b.execute(fn),
    },
    {
      name: 'cockatiel Sampling(0.5, 10 s)',
      setup: () => () =>
        c.circuitBreaker(c.handleAll, { halfOpenAfter: LONG, breaker: new c.SamplingBreaker({ threshold: 0.5, duration: 10_000 }) }),
      call: (b) => b.execute(fn),
    },
    { name: 'opossum default', setup: () => () => new O(fn, { resetTimeout: LONG }), call: (b) => b.fire(), cleanup: (b) => b.shutdown() },
  ];
}

async function createAndCallAll(kind, names, hold) {
  const make = kind.setup();
  for (let i = 0; i < names.length; i++) hold[i] = make(names[i]);
  // One successful call each, so lazily allocated windows are counted.
  for (let i = 0; i < names.length; i++) await kind.call(hold[i]);
}

async function heapBytes(kind, names) {
  const hold = new Array(names.length).fill(undefined); // allocated before the "before" reading: net of the array
  await tick();
  gc();
  gc();
  const before = process.memoryUsage();
  await createAndCallAll(kind, names, hold);
  gc();
  gc();
  const after = process.memoryUsage();
  if (kind.cleanup) hold.forEach(kind.cleanup);
  // ArrayBuffer backing stores over 64 bytes live outside the V8 heap: heapUsed alone misses them.
  return { heap: (after.heapUsed - before.heapUsed) / names.length, offHeap: (after.arrayBuffers - before.arrayBuffers) / names.length };
}

/** Timers (Timeout/Immediate) created during creation+call, and still live once the calls settled. */
async function timerCount(kind, names) {
  const hold = new Array(names.length).fill(undefined);
  const live = new Set();
  let created = 0;
  let counting = true; // off while we wait with our own setImmediate below
  const hook = createHook({
    init(id, type) {
      if (counting && (type === 'Timeout' || type === 'Immediate')) {
        created++;
        live.add(id);
      }
    },
    destroy(id) {
      live.delete(id);
    },
  });
  hook.enable();
  await createAndCallAll(kind, names, hold);
  counting = false;
  await tick(); // destroy hooks of cleared timers are delivered asynchronously, and only while enabled
  await tick();
  const stillLive = live.size;
  hook.disable();
  if (kind.cleanup) hold.forEach(kind.cleanup);
  return { created: created / names.length, live: stillLive / names.length };
}

async function perBreaker() {
  const rows = [];
  for (const kind of breakerKinds()) {
    const bytes = [];
    const offHeap = [];
    for (let r = 0; r < HEAP_ROUNDS; r++) {
      const names = Array.from({ length: BREAKERS }, (_, i) => `http://host-${r}-${i}.example:8080`);
      const m = await heapBytes(kind, names);
      bytes.push(m.heap);
      offHeap.push(m.offHeap);
    }
    const names = Array.from({ length: BREAKERS }, (_, i) => `http://timers-${i}.example:8080`);
    const timers = await timerCount(kind, names);
    rows.push({
      name: kind.name,
      ours: !!kind.ours,
      bytes: median(bytes),
      offHeap: median(offHeap),
      spread: [Math.min(...bytes), Math.max(...bytes)],
      ...timers,
    });
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Report

const row = (rows, name) => rows.find((r) => r.name === name);
const bar = (label, ok) => console.log(`${label}: ${ok ? 'PASS' : 'FAIL'}`);

async function main() {
  const started = Date.now();
  console.log(
    `otel-self-heal breaker benchmark — node ${process.version}, ${ROUNDS} interleaved rounds${QUICK ? ' (BENCH_QUICK)' : ''}; ` +
      'CPU = process user+system time; overhead = median over rounds of (variant − baseline in the same round)\n',
  );

  const closed = await closedState();
  console.log(`1. Closed state, success path (${fmt(CLOSED_N)} calls/round; opossum default ×0.25)`);
  table(
    ['variant', 'calls/round', 'CPU ns/call', 'overhead CPU ns', 'overhead wall ns'],
    closed.map((r) => {
      const base = r.name.startsWith('baseline');
      return [r.name, fmt(r.n), fmt(r.cpu), base ? '—' : fmt(r.overCpu), base ? '—' : fmt(r.overWall)];
    }),
  );
  const oCount = row(closed, 'ours, count window (defaults)').overCpu;
  const oTime = row(closed, 'ours, time window (10 s)').overCpu;
  const cCons = row(closed, 'cockatiel ConsecutiveBreaker(5)').overCpu;
  const cSamp = row(closed, 'cockatiel SamplingBreaker(0.5, 10 s)').overCpu;
  const closedRatios = [oCount / cCons, oTime / cSamp];
  console.log(`ratio ours count window / cockatiel Consecutive: ${fmt(oCount)} / ${fmt(cCons)} = ${fmt(closedRatios[0], 2)}x`);
  console.log(`ratio ours time window / cockatiel Sampling:     ${fmt(oTime)} / ${fmt(cSamp)} = ${fmt(closedRatios[1], 2)}x\n`);

  const open = await openState();
  console.log(`2. Open state, fast-fail path (${fmt(OPEN_N)} calls/round; caller awaits and catches)`);
  table(
    ['variant', 'CPU ns/call', 'wall ns/call', 'CPU minus baseline'],
    open.map((r) => [r.name, fmt(r.cpu), fmt(r.wall), r.name.startsWith('baseline') ? '—' : fmt(r.overCpu)]),
  );
  const oursFail = row(open, 'ours, forceOpen()').cpu;
  const peers = open.filter((r) => !r.name.startsWith('baseline') && !r.name.startsWith('ours'));
  const fastest = peers.reduce((a, b) => (b.cpu < a.cpu ? b : a));
  const failRatio = oursFail / fastest.cpu;
  console.log(`ratio ours / fastest peer (${fastest.name}): ${fmt(oursFail)} / ${fmt(fastest.cpu)} = ${fmt(failRatio, 3)}x\n`);

  const heap = await perBreaker();
  console.log(`3. Per breaker (${fmt(BREAKERS)} breakers, one successful call each; heap median of ${HEAP_ROUNDS} round(s))`);
  table(
    ['variant', 'heap B/breaker', 'min..max', '+ off-heap B', 'timers created/breaker', 'timers live/breaker'],
    heap.map((r) => [r.name, fmt(r.bytes), `${fmt(r.spread[0])}..${fmt(r.spread[1])}`, fmt(r.offHeap), fmt(r.created, 2), fmt(r.live, 2)]),
  );
  const ours = heap.filter((r) => r.ours);
  // The bar counts heap plus off-heap bytes (our count window's ring is an off-heap Uint8Array).
  const oursBytes = Math.max(...ours.map((r) => r.bytes + r.offHeap));
  const oursTimers = Math.max(...ours.map((r) => r.created));
  const cc = row(heap, 'cockatiel Consecutive(5)');
  const cockatielBytes = cc.bytes + cc.offHeap;
  const bytesRatio = oursBytes / cockatielBytes;
  console.log(
    `ratio ours (worst of the two, heap+off-heap) / cockatiel Consecutive: ${fmt(oursBytes)} / ${fmt(cockatielBytes)} = ${fmt(bytesRatio, 2)}x\n`,
  );

  const closedLabel = `count ${fmt(closedRatios[0], 2)}x, time ${fmt(closedRatios[1], 2)}x`;
  bar(`closed overhead <= 0.5x cockatiel (${closedLabel})`, closedRatios.every((x) => x <= 0.5));
  bar(`fast-fail <= 0.25x fastest peer (${fmt(failRatio, 3)}x)`, failRatio <= 0.25);
  bar(`< 1 KB per breaker (${fmt(oursBytes)} B, heap+off-heap, worst of our two)`, oursBytes < 1024);
  bar(`0 timers per breaker (${fmt(oursTimers, 2)})`, oursTimers === 0);

  for (const b of opossumBreakers) b.shutdown();
  console.log(`\n(${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

await main();
