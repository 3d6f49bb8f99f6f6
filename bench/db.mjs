// Database benchmark: what our pg, mysql2 and ioredis breakers cost on real calls to the local
// servers (PostgreSQL 127.0.0.1:5432, MariaDB 127.0.0.1:3306, Redis 127.0.0.1:6379), beside the
// same calls wrapped by hand in opossum 9.0.0 (default and lean options) and cockatiel 3.2.1
// (ConsecutiveBreaker(5)). Method as in bench/http.mjs:
//  - interleaved rounds, variant order rotated by a random offset each round; overhead = median
//    over rounds of (variant − baseline of the same round), IQR = its interquartile range;
//  - every loop compiled with `new Function`, peers from fresh copies of their library, one call
//    at a time; process CPU time (user+system) is the primary metric, wall time the secondary;
//  - the variants run in a child process (bench/db-child.mjs), this one only schedules them over
//    IPC and prints, so its own work is not counted.
// Our DB patches are process-wide: prototype wrappers that stay in place once installed and pass
// calls straight through while our instrumentations are disabled. So the plugin is live in the
// variants' process all along, and its three DB instrumentations are enabled only around ours'
// runs: the baseline and the peers run the same client code minus our guard, with the
// pass-through (one property read, one `apply`) in every variant alike. A first attempt ran each
// variant in a process of its own: two processes running identical code came out up to 2.5–4
// µs/call apart, as much as the overheads measured. The "no plugin, own process [info]" row keeps
// that check: a process where our plugin never loaded, running the plain call, in the same rounds.
// The servers are other processes on the same machine: their CPU is not counted. No OTel SDK:
// spans are no-ops, for ours as for the peers (bench/http.mjs §4 measures with spans).
// Run: `npm run bench:db` (needs the three servers). `BENCH_QUICK=1` for a smoke run.

import { fork } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { quantile, median, seeded, fmt, pct, ratio, table } from './lib.mjs';

const CHILD = fileURLToPath(new URL('./db-child.mjs', import.meta.url));
const QUICK = process.env.BENCH_QUICK === '1';
// Many short rounds: on a shared machine the load drifts within seconds, and only a variant
// measured right beside its baseline sees the same load. A call costs 25–50 µs of client CPU
// (40–80 µs wall); ours adds a few.
const OK_ROUNDS = QUICK ? 3 : 51;
const OK_N = QUICK ? 100 : 300; // successful calls per variant per round
const FAIL_ROUNDS = QUICK ? 3 : 15;
const FAIL_N = QUICK ? 500 : 2_000; // refused calls per variant per round
// Real failures per round: a refused connect costs 80–150 µs (mysql2 pool: ~1 ms), so fewer.
const DEAD_N = { 'pg.client': QUICK ? 20 : 100, 'pg.pool': QUICK ? 20 : 100, 'mysql2.pool': QUICK ? 4 : 10, ioredis: QUICK ? 20 : 100 };
const WARMUP = QUICK ? 300 : 1_000; // fewest calls per variant in its warm-up pass
const PRE = QUICK ? 20 : 30; // untimed calls right before each timed run
// Our plugin's memory per destination has three regimes: the first `maxAnomalyDetectors` (100)
// downstream components get a latency anomaly detector; then, up to the health monitor's 1000
// components (and the 1024 entries of the target cache), a health component; past those caps a
// breaker only. Each phase measures one regime (the 3 servers above are components already).
const MEM_WARMUP = 10; // destinations called before the first reading: code is not charged to destinations
const MEM_HEALTH = 800; // phase B: health component, no detector (3 + 100 + 800 < 1000)
const MEM_PAST = QUICK ? 1_000 : 2_000; // phase C: past every cap
const MEM_TIMERS = 200; // destinations of the timer count (a pass of its own)

/** Variant → [process role, label]; the first one is the baseline. */
const VARIANTS = {
  baseline: ['main', 'baseline (our DB guards disabled)'],
  ours: ['main', 'ours (DB guards enabled)'],
  opossum: ['main', 'opossum default'],
  'opossum-lean': ['main', 'opossum lean'],
  cockatiel: ['main', 'cockatiel Consecutive(5)'],
  pristine: ['pristine', 'no plugin, own process [info]'],
};
const SECTIONS = {
  'pg.client': 'pg Client#query("SELECT 1")',
  'pg.pool': 'pg Pool#query("SELECT 1")',
  'mysql2.pool': 'mysql2 promise pool.query("SELECT 1")',
  ioredis: 'ioredis get(k)',
};

// ---------------------------------------------------------------------------------------------
// Processes

/** A variants process (role `main` or `pristine`), ready once its clients are connected; `call(op)` is one IPC request. */
async function spawn(key, deadPort) {
  const child = fork(CHILD, [key, String(deadPort)], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map();
  let nextId = 0;
  let ready;
  const started = new Promise((resolve, reject) => {
    ready = resolve;
    child.once('exit', (code) => reject(new Error(`${key} exited with code ${code} before it was ready`)));
  });
  child.on('message', (m) => {
    if (m.ready) return ready();
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error) p.reject(new Error(`${key}: ${m.error}`));
    else p.resolve(m.value);
  });
  await started;
  return {
    key,
    call: (msg) =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        child.send({ id, ...msg });
      }),
    exited: once(child, 'exit'),
  };
}

/** A port nothing listens on: connecting to it fails at once with ECONNREFUSED. */
async function closedPort() {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address();
  s.close();
  await once(s, 'close');
  return port;
}

// ---------------------------------------------------------------------------------------------
// Measurement


const random = seeded(20_260_101);

/**
 * Runs every variant `rounds` times, one at a time, each round in an order rotated by a random
 * offset. A variant is `{ name, variant, proc, section, mode, n }`; the first one is the baseline. Returns
 * per-variant medians of the per-call cost (µs) and of (variant − baseline of the same round).
 */
async function interleaved(variants, rounds) {
  const run = (v, n) => v.proc.call({ op: 'run', variant: v.variant, section: v.section, mode: v.mode, n, pre: PRE });
  for (const v of variants) await run(v, Math.max(v.n, WARMUP));
  const per = variants.map(() => ({ cpu: [], wall: [], dCpu: [], dWall: [] }));
  for (let r = 0; r < rounds; r++) {
    const offset = Math.floor(random() * variants.length);
    const got = [];
    for (let k = 0; k < variants.length; k++) {
      const i = (k + offset) % variants.length;
      got[i] = await run(variants[i], variants[i].n);
    }
    got.forEach((g, i) => {
      per[i].cpu.push(g.cpu / 1000);
      per[i].wall.push(g.wall / 1000);
      per[i].dCpu.push((g.cpu - got[0].cpu) / 1000);
      per[i].dWall.push((g.wall - got[0].wall) / 1000);
    });
  }
  return variants.map((v, i) => ({
    ...v,
    cpu: median(per[i].cpu),
    wall: median(per[i].wall),
    overCpu: median(per[i].dCpu),
    overWall: median(per[i].dWall),
    iqr: [quantile(per[i].dCpu, 0.25), quantile(per[i].dCpu, 0.75)],
  }));
}

// ---------------------------------------------------------------------------------------------
// Report

const us = (x) => fmt(x, 2);
const byKey = (rows, key) => rows.find((r) => r.variant === key);
const peersOf = (rows) => rows.filter((r) => ['opossum', 'opossum-lean', 'cockatiel'].includes(r.variant));
const withinNoise = (r) => r.iqr[0] <= 0 && r.iqr[1] >= 0;
/** An overhead and its spread, flagged when the spread straddles zero (below this run's noise). */
const overhead = (r) => `${us(r.overCpu)} µs [IQR ${us(r.iqr[0])}..${us(r.iqr[1])}${withinNoise(r) ? ', within noise' : ''}]`;
/** ours ÷ a peer's overhead, in parentheses when the peer's is within noise (a ratio to noise means little). */
const overheadRatio = (ours, peer) => {
  const x = ratio(ours.overCpu, peer.overCpu);
  return withinNoise(peer) && x !== '—' ? `(${x})` : x;
};

function successTable(rows) {
  const [base] = rows;
  const ours = byKey(rows, 'ours');
  table(
    ['variant', 'CPU µs/call', 'wall µs/call', 'added CPU µs', 'IQR', 'added wall µs', '% of call CPU', 'ours/this'],
    rows.map((r) => {
      const isBase = r === base;
      return [
        r.name,
        us(r.cpu),
        us(r.wall),
        isBase ? '—' : us(r.overCpu),
        isBase ? '—' : `${us(r.iqr[0])}..${us(r.iqr[1])}`,
        isBase ? '—' : us(r.overWall),
        isBase ? '—' : pct(r.overCpu / base.cpu),
        isBase || r === ours || r.variant === 'pristine' ? '—' : overheadRatio(ours, r),
      ];
    }),
  );
}

function refusalTable(rows) {
  const ours = byKey(rows, 'ours');
  table(
    ['variant', 'calls/round', 'CPU µs/call', 'wall µs/call', 'ours/this (CPU)'],
    rows.map((r) => [r.name, fmt(r.n), us(r.cpu), us(r.wall), r === ours ? '—' : ratio(ours.cpu, r.cpu)]),
  );
}

// ---------------------------------------------------------------------------------------------

/** One memory op per variant, one variant at a time: `op` over `count` new destinations from `from`. */
async function perVariant(proc, variants, op, from, count) {
  const out = new Map();
  for (const variant of variants) out.set(variant, await proc.call({ op, variant, from, count }));
  return out;
}

async function main() {
  const started = Date.now();
  const deadPort = await closedPort();
  const procs = { main: await spawn('main', deadPort), pristine: await spawn('pristine', deadPort) };
  const version = (pkg) => JSON.parse(readFileSync(new URL(`../node_modules/${pkg}/package.json`, import.meta.url), 'utf8')).version;
  console.log(
    `otel-self-heal DB benchmark — node ${process.version}, pg ${version('pg')}, pg-pool ${version('pg-pool')}, mysql2 ${version('mysql2')}, ` +
      `ioredis ${version('ioredis')}, opossum ${version('opossum')}, cockatiel ${version('cockatiel')}${QUICK ? ' (BENCH_QUICK)' : ''}\n` +
      'Variants in one child process (our plugin live, its DB guards enabled only around ours\' runs), one at a time, order rotated ' +
      'by a random offset each round; one call at a time to the local servers; CPU = that process user+system; added = median over ' +
      'rounds of (variant − baseline in the same round), IQR = its interquartile range\n',
  );

  const ok = {};
  for (const [section, label] of Object.entries(SECTIONS)) {
    const variants = Object.entries(VARIANTS).map(([variant, [role, name]]) => ({ name, variant, proc: procs[role], section, mode: 'ok', n: OK_N }));
    ok[section] = await interleaved(variants, OK_ROUNDS);
    console.log(`1. Closed breaker, success path: ${label} (${OK_ROUNDS} rounds × ${fmt(OK_N)} calls)`);
    successTable(ok[section]);
    console.log('');
  }

  const failed = {};
  const refusers = ['ours', 'opossum', 'opossum-lean', 'cockatiel'];
  const refusalNames = { ours: 'refused by ours (forceOpen)', opossum: 'opossum default open()', 'opossum-lean': 'opossum lean open()', cockatiel: 'cockatiel isolate()' };
  for (const [section, label] of Object.entries(SECTIONS)) {
    const variants = [
      { name: 'ECONNREFUSED, unguarded (real failure)', variant: 'baseline', proc: procs.main, section, mode: 'fail', n: DEAD_N[section] },
      ...refusers.map((variant) => ({ name: refusalNames[variant], variant, proc: procs.main, section, mode: 'fail', n: FAIL_N })),
    ];
    failed[section] = await interleaved(variants, FAIL_ROUNDS);
    console.log(`2. Open breaker, fast-fail: ${label}, until it rejects (${FAIL_ROUNDS} rounds; real failures on a closed port)`);
    refusalTable(failed[section]);
    console.log('');
  }

  const memVariants = ['baseline', 'ours', 'opossum', 'opossum-lean', 'cockatiel'];
  const mem = (op, from, count) => perVariant(procs.main, memVariants, op, from, count);
  let from = 0;
  const phase = async (op, count) => {
    const m = await mem(op, from, count);
    from += count;
    m.count = count;
    return m;
  };
  await phase('memory', MEM_WARMUP);
  const state = await procs.main.call({ op: 'state' });
  if (!(state.maxDetectors > state.detectors)) throw new Error(`no anomaly detector left for phase A (${state.detectors} of ${state.maxDetectors} in use)`);
  const [memA, memB, memC] = [
    await phase('memory', state.maxDetectors - state.detectors),
    await phase('memory', MEM_HEALTH),
    await phase('memory', MEM_PAST),
  ];
  const timers = await phase('timers', MEM_TIMERS);
  const added = (m, key) => m.get(key).bytes - m.get('baseline').bytes;
  console.log(
    '3. Memory per guarded destination: one pg connect each to distinct loopback hosts (127.x.y.z) on a closed port, refused by ' +
      'the OS (one failure stays below every trip rule); the peers keep one breaker per destination in a Map; heap+off-heap after ' +
      `full GCs, minus the baseline's. Phases, for ours: A = the first ${state.maxDetectors} downstreams (the 3 servers above among them) get a latency ` +
      `anomaly detector; B = the next ${fmt(MEM_HEALTH)} a health component; C = ${fmt(MEM_PAST)} more, past every cap. Timers: ` +
      `${fmt(MEM_TIMERS)} more destinations, Timeouts still live once their calls settled`,
  );
  table(
    ['variant', ...[memA, memB, memC].map((m, i) => `${'ABC'[i]}: ${fmt(m.count)} dest, B/dest`), 'timers live/dest', 'ours/this (B)'],
    memVariants.map((v) => [
      VARIANTS[v][1],
      ...[memA, memB, memC].map((m) => (v === 'baseline' ? `(${fmt(m.get(v).bytes)})` : fmt(added(m, v)))),
      fmt(timers.get(v), 2),
      v === 'baseline' || v === 'ours' ? '—' : ratio(added(memB, 'ours'), added(memB, v)),
    ]),
  );
  const o = memC.get('ours');
  console.log(`(baseline row: its own B/dest, the noise of the method; ours after phase C: ${fmt(o.breakers)} breakers, ${fmt(o.components)} health components, ${fmt(o.detectors)} detectors)\n`);

  console.log('Findings (CPU, medians of paired per-round differences; a ratio in parentheses divides by an overhead within noise):');
  for (const [section, label] of Object.entries(SECTIONS)) {
    const rows = ok[section];
    const [base] = rows;
    const ours = byKey(rows, 'ours');
    const pristine = byKey(rows, 'pristine');
    console.log(
      `- ${label}: ours adds ${overhead(ours)} per call = ${pct(ours.overCpu / base.cpu)} of a ${us(base.cpu)} µs call; ` +
        peersOf(rows).map((p) => `${p.name} adds ${overhead(p)} (ours ${overheadRatio(ours, p)})`).join('; ') +
        `; a process where the plugin never loaded: ${overhead(pristine)} vs the baseline`,
    );
  }
  for (const [section, label] of Object.entries(SECTIONS)) {
    const rows = failed[section];
    const ours = byKey(rows, 'ours');
    const real = rows[0];
    const peer = peersOf(rows).reduce((a, b) => (b.cpu < a.cpu ? b : a));
    console.log(
      `- ${label} refused: ${us(ours.cpu)} µs/call = ${ratio(ours.cpu, real.cpu)} of a real ECONNREFUSED (${us(real.cpu)} µs), ` +
        `${ratio(ours.cpu, ok[section][0].cpu)} of a successful call, ${ratio(ours.cpu, peer.cpu)} of the fastest peer fast-fail (${peer.name}, ${us(peer.cpu)} µs)`,
    );
  }
  const cheapestPeer = ['opossum-lean', 'cockatiel'].reduce((a, b) => (added(memB, b) < added(memB, a) ? b : a));
  console.log(
    `- memory per destination, ours: ${fmt(added(memA, 'ours'))} B with an anomaly detector (the first ${state.maxDetectors}), ` +
      `${fmt(added(memB, 'ours'))} B with a health component (up to 1000), ${fmt(added(memC, 'ours'))} B past the caps; ` +
      `peers: ${VARIANTS[cheapestPeer][1]} ${fmt(added(memB, cheapestPeer))} B, opossum default ${fmt(added(memB, 'opossum'))} B; ` +
      `live timers per destination: ours ${fmt(timers.get('ours'), 2)}, opossum default ${fmt(timers.get('opossum'), 2)}`,
  );

  for (const p of Object.values(procs)) await p.call({ op: 'end' });
  await Promise.all(Object.values(procs).map((p) => p.exited));
  console.log(`\n(${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

await main();
