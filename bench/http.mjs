// HTTP benchmark: what our guard costs on real requests (node:http `http.get` through a keep-alive
// agent, and global `fetch` with its body read) against a local node:http server, beside the same
// requests wrapped by hand in opossum 9.0.0 and cockatiel 3.2.1. Method as in bench/breaker.mjs
// and research/resilience.md §1:
//  - interleaved rounds, variant order rotated (by a random offset) each round; overhead =
//    median over rounds of (variant − baseline) from the same round; the baseline is the same
//    request unpatched;
//  - every variant runs in its own loop compiled with `new Function`, peers from fresh copies of
//    their library, one request at a time;
//  - process CPU time (user+system) is the primary metric, wall time the secondary.
// The server runs in a child process, so the CPU figures are the client's alone; the official
// OTel instrumentations (section 4) run in a second child, which sets them up before it loads
// node:http. Our plugin is toggled between variants: created before its variant, shut down
// after it (one instance at a time), so every other variant runs against unpatched clients.
// Findings this bench surfaced are in its report; two shape it: a forced full gc() between
// variants triples node:http's per-request CPU for thousands of requests (so only minor GCs
// here), and fetch leaves ~13 KB of old-generation garbage per request, so a major GC lands in
// a fetch variant's window every ~2,000 requests: the fetch rows are the noisiest.
// Run: `npm run bench:http` (needs --expose-gc). `BENCH_QUICK=1` for a smoke run.

import { fork } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, interleavedRounds, pct, ratio, seeded, table } from './lib.mjs';

const require = createRequire(import.meta.url);
const SELF = fileURLToPath(import.meta.url);
const QUICK = process.env.BENCH_QUICK === '1';
// Many short rounds rather than a few long ones: on a shared machine the load drifts within
// seconds, and only a variant measured right beside its baseline sees the same load. Our
// success-path overhead is a few µs on a request of 50–300 µs: those sections get the most rounds.
const OK_ROUNDS = QUICK ? 3 : 41;
const OK_N = QUICK ? 300 : 500; // successful requests per variant per round
const FAIL_ROUNDS = QUICK ? 3 : 15;
const FAIL_N = QUICK ? 1_000 : 5_000; // refused calls per variant per round
const WARMUP = 1_000; // fewest calls per variant in its warm-up pass
const PRE = QUICK ? 30 : 50; // untimed calls right before each timed run: re-optimizes after a patch/unpatch
const CONNREFUSED_SCALE = 0.1; // a failed connect costs ~10× a refusal: fewer of them per round
const LONG = 3_600_000; // ms; keeps every reset/half-open timer out of the measured window
const OPOSSUM_LEAN = { timeout: false, rollingPercentilesEnabled: false, enableSnapshots: false };

// ---------------------------------------------------------------------------------------------
// Measurement (as in bench/breaker.mjs, plus per-variant setup/teardown outside the timed part)

const gc = globalThis.gc;

/** A loop of its own: `new Function` compiles fresh code, so its call sites only ever see one target. */
function makeLoop(body) {
  const factory = new Function(
    't',
    'fn',
    `return async function loop(n) {
      let s = 0;
      for (let i = 1; i <= n; i++) {
        ${body}
      }
      return s;
    };`,
  );
  return (target, fn) => factory(target, fn);
}
const SUCCESS = {
  plain: 's += (await t()) === 200 ? 1 : 0;',
  opossum: 's += (await t.fire()) === 200 ? 1 : 0;',
  cockatiel: 's += (await t.execute(fn)) === 200 ? 1 : 0;',
};
const FAILURE = {
  plain: 'try { await t(); } catch (e) { s++; }',
  opossum: 'try { await t.fire(); } catch (e) { s++; }',
  cockatiel: 'try { await t.execute(fn); } catch (e) { s++; }',
};

async function measure(v, n) {
  await v.setup?.();
  await v.loop(PRE);
  v.begin?.();
  // Young garbage of the previous variant is not charged to this one. A minor GC only: a forced
  // full gc() here deoptimizes node:http's hot code (10× the deopts in --trace-deopt) and makes
  // the next few thousand requests cost ~3× the CPU, far more than anything measured here.
  gc({ type: 'minor' });
  const c0 = process.cpuUsage();
  const w0 = process.hrtime.bigint();
  const s = await v.loop(n);
  const wall = Number(process.hrtime.bigint() - w0);
  const c = process.cpuUsage(c0);
  await v.teardown?.(n);
  if (s !== n) throw new Error(`${v.name}: ${s} of ${n} calls ended as expected`);
  return { cpu: ((c.user + c.system) * 1000) / n, wall: wall / n };
}



/**
 * Runs every variant `rounds` times, each round in rotated order. The rotation's offset is
 * drawn at random each round: with a fixed +1 step, a periodic cost (a major GC every ~2,000
 * fetches, a peer's 1 s interval) can fall on the same variant round after round. A variant is
 * `{ name, loop, n, setup?, begin?, teardown? }` (setup, then PRE untimed calls, then begin, then
 * the timed calls, then teardown(n)); the first one is the baseline. Returns per-variant
 * medians of the per-call cost and of (variant − baseline of the same round), with the
 * interquartile range of the CPU difference as its spread.
 */
async function interleaved(variants, rounds) {
  const random = seeded(20_260_101);
  // Warm-up: one untimed pass each (at least WARMUP calls), so every path is optimized before round 1.
  for (const v of variants) await measure(v, Math.max(v.n, WARMUP));
  return interleavedRounds(variants, rounds, (v) => measure(v, v.n), () => Math.floor(random() * variants.length));
}

// ---------------------------------------------------------------------------------------------
// Server, clients, peers

/** The fixed 200 response server, in a child process of its own. */
async function serve() {
  const http = require('node:http');
  const body = Buffer.from('ok');
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
    res.end(body);
  });
  server.keepAliveTimeout = 120_000; // no idle socket closes between variants
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  process.on('disconnect', () => process.exit(0));
}

async function startServer() {
  const child = fork(SELF, ['--server'], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const [msg] = await once(child, 'message');
  return { port: msg.port, stop: () => child.disconnect() };
}

/** A port nothing listens on: connecting to it fails at once with ECONNREFUSED. */
async function closedPort() {
  const net = require('node:net');
  const s = net.createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address();
  s.close();
  await once(s, 'close');
  return port;
}

/** `http.get` on the keep-alive agent, until the response body ended; rejects on 'error'. */
function makeHttpGet(http, agent, port) {
  return () =>
    new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
        res.on('end', () => resolve(res.statusCode));
        res.resume();
      });
      req.on('error', reject);
    });
}

/** Global `fetch` (its default keep-alive dispatcher), body read. */
function makeFetch(port) {
  const url = `http://127.0.0.1:${port}/`;
  return async () => {
    const res = await fetch(url);
    await res.arrayBuffer();
    return res.status;
  };
}

/** A CommonJS package loaded again from scratch: its cached modules are dropped first. */
function freshRequire(pkg) {
  const root = dirname(require.resolve(`${pkg}/package.json`));
  for (const key of Object.keys(require.cache)) if (key.startsWith(root)) delete require.cache[key];
  return require(pkg);
}

const opossumBreakers = [];
function opossum(fn, options) {
  const b = new (freshRequire('opossum'))(fn, { resetTimeout: LONG, ...options });
  opossumBreakers.push(b);
  return b;
}
function cockatiel() {
  const c = freshRequire('cockatiel');
  return c.circuitBreaker(c.handleAll, { halfOpenAfter: LONG, breaker: new c.ConsecutiveBreaker(5) });
}

/** Our plugin, live only between its variant's setup and teardown. */
function pluginToggle(lib, origin) {
  let plugin;
  return {
    get breaker() {
      return plugin.breakers.get(origin);
    },
    async on() {
      if (lib.getSelfHealing()) throw new Error('a SelfHealing instance is already live');
      plugin = new lib.SelfHealing({ officialInstrumentations: false });
    },
    async off() {
      await plugin.shutdown();
      plugin = undefined;
    },
  };
}

/** The variants of one client: unpatched, ours, and the peers wrapping the unpatched request. */
function successVariants(label, request, plugin) {
  const v = (name, kind, target, extra) => ({ name, n: OK_N, loop: makeLoop(SUCCESS[kind])(target, request), ...extra });
  let before = 0;
  return [
    v(`${label}, unpatched (baseline)`, 'plain', request),
    v(`${label}, ours (plugin live)`, 'plain', request, {
      setup: () => plugin.on(),
      begin: () => void (before = plugin.breaker.successes),
      teardown: async (n) => {
        const counted = plugin.breaker.successes - before;
        await plugin.off();
        // Proves the guard ran on every measured request (and was not bypassed).
        if (counted !== n) throw new Error(`${label}: the breaker saw ${counted} of ${n} requests`);
      },
    }),
    v(`${label}, opossum default`, 'opossum', opossum(request)),
    v(`${label}, opossum lean`, 'opossum', opossum(request, OPOSSUM_LEAN)),
    v(`${label}, cockatiel Consecutive(5)`, 'cockatiel', cockatiel()),
  ];
}

/** The refusal variants of one client: ours refusing, the client failing to connect, the peers' fast-fail. */
function refusalVariants(label, request, refusedRequest, plugin) {
  const v = (name, kind, target, extra) => ({ name, n: FAIL_N, loop: makeLoop(FAILURE[kind])(target, request), ...extra });
  const opDefault = opossum(request);
  const opLean = opossum(request, OPOSSUM_LEAN);
  opDefault.open();
  opLean.open();
  const iso = cockatiel();
  iso.isolate(); // held open; each call rejects with a new IsolatedCircuitError
  let before = 0;
  return [
    v(`${label} ECONNREFUSED, unpatched`, 'plain', refusedRequest, { n: Math.round(FAIL_N * CONNREFUSED_SCALE) }),
    v(`${label} refused by ours (forceOpen)`, 'plain', request, {
      setup: async () => {
        await plugin.on();
        plugin.breaker.forceOpen();
      },
      begin: () => void (before = plugin.breaker.rejections),
      teardown: async (n) => {
        const refused = plugin.breaker.rejections - before;
        await plugin.off();
        if (refused !== n) throw new Error(`${label}: the breaker refused ${refused} of ${n} requests`);
      },
    }),
    v(`${label}, opossum default open()`, 'opossum', opDefault),
    v(`${label}, opossum lean open()`, 'opossum', opLean),
    v(`${label}, cockatiel isolate()`, 'cockatiel', iso),
  ];
}

// ---------------------------------------------------------------------------------------------
// Report


/** Section 1+2 table: per request, overhead over the unpatched request, and ours ÷ each peer. */
function successTable(rows) {
  const [base, ours] = rows;
  table(
    ['variant', 'CPU ns/req', 'wall ns/req', 'overhead CPU ns', 'IQR', 'overhead wall ns', '% of req CPU', 'ours/this'],
    rows.map((r) => {
      const isBase = r === base;
      return [
        r.name,
        fmt(r.cpu),
        fmt(r.wall),
        isBase ? '—' : fmt(r.overCpu),
        isBase ? '—' : `${fmt(r.iqr[0])}..${fmt(r.iqr[1])}`,
        isBase ? '—' : fmt(r.overWall),
        isBase ? '—' : pct(r.overCpu / base.cpu),
        isBase || r === ours ? '—' : ratio(ours.overCpu, r.overCpu),
      ];
    }),
  );
}

/** Section 3 table: absolute cost per refused call, and ours ÷ each alternative. */
function refusalTable(rows) {
  const ours = rows.find((r) => r.name.includes('refused by ours'));
  table(
    ['variant', 'calls/round', 'CPU ns/call', 'wall ns/call', 'ours/this (CPU)'],
    rows.map((r) => [r.name, fmt(r.n), fmt(r.cpu), fmt(r.wall), r === ours ? '—' : ratio(ours.cpu, r.cpu)]),
  );
}

/** An overhead and its spread, flagged when the spread straddles zero (below this run's noise). */
const overhead = (r) => `${fmt(r.overCpu)} ns [IQR ${fmt(r.iqr[0])}..${fmt(r.iqr[1])}${r.iqr[0] <= 0 && r.iqr[1] >= 0 ? ', within noise' : ''}]`;
const fastest = (rows) => rows.reduce((a, b) => (b.cpu < a.cpu ? b : a));
const peersOf = (rows) => rows.filter((r) => /opossum|cockatiel/.test(r.name));

// ---------------------------------------------------------------------------------------------
// Sections 1–3: this process, no OTel SDK

async function main() {
  if (typeof gc !== 'function') {
    console.error('bench/http.mjs needs --expose-gc (run it with `npm run bench:http`)');
    process.exit(1);
  }
  const started = Date.now();
  const http = require('node:http');
  const lib = await import('../dist/index.js');
  const server = await startServer();
  const deadPort = await closedPort();
  const agent = new http.Agent({ keepAlive: true });
  const origin = `http://127.0.0.1:${server.port}`;
  const plugin = pluginToggle(lib, origin);
  const httpGet = makeHttpGet(http, agent, server.port);
  const httpGetDead = makeHttpGet(http, agent, deadPort);
  const fetchOk = makeFetch(server.port);
  const fetchDead = makeFetch(deadPort);

  console.log(
    `otel-self-heal HTTP benchmark — node ${process.version}${QUICK ? ' (BENCH_QUICK)' : ''}; ` +
      'interleaved rounds, variant order rotated by a random offset each round; ' +
      'server in a child process on 127.0.0.1, one request at a time, keep-alive; CPU = this process user+system; ' +
      'overhead = median over rounds of (variant − unpatched request in the same round), IQR = its interquartile range\n',
  );

  const httpRows = await interleaved(successVariants('http.get', httpGet, plugin), OK_ROUNDS);
  console.log(`1+2. Success path, http.get on a keep-alive agent, 200 "ok" (${OK_ROUNDS} rounds × ${fmt(OK_N)} requests)`);
  successTable(httpRows);
  console.log('');

  const fetchRows = await interleaved(successVariants('fetch', fetchOk, plugin), OK_ROUNDS);
  console.log(`1+2. Success path, global fetch + arrayBuffer(), 200 "ok" (${OK_ROUNDS} rounds × ${fmt(OK_N)} requests)`);
  successTable(fetchRows);
  console.log('');

  const httpRefusal = await interleaved(refusalVariants('http.get', httpGet, httpGetDead, plugin), FAIL_ROUNDS);
  console.log(`3. Refusal path, http.get until its 'error' event (${FAIL_ROUNDS} rounds × ${fmt(FAIL_N)} calls; ECONNREFUSED ×${CONNREFUSED_SCALE})`);
  refusalTable(httpRefusal);
  console.log('');

  const fetchRefusal = await interleaved(refusalVariants('fetch', fetchOk, fetchDead, plugin), FAIL_ROUNDS);
  console.log(`3. Refusal path, fetch until it rejects (${FAIL_ROUNDS} rounds × ${fmt(FAIL_N)} calls; ECONNREFUSED ×${CONNREFUSED_SCALE})`);
  refusalTable(fetchRefusal);
  console.log('');

  for (const b of opossumBreakers) b.shutdown();
  agent.destroy();

  // 4. In a process of its own: the official instrumentations must patch node:http before it loads.
  const child = fork(SELF, ['--otel', String(server.port)], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let otel;
  child.on('message', (m) => (otel = m));
  const [code] = await once(child, 'exit');
  server.stop();
  if (code !== 0 || !otel) throw new Error(`section 4 (official instrumentations) failed with exit code ${code}`);

  console.log('Findings (CPU, medians of paired per-round differences):');
  for (const [label, rows] of [
    ['http.get', httpRows],
    ['fetch', fetchRows],
  ]) {
    const [base, ours, ...peers] = rows;
    console.log(
      `- ${label}: ours adds ${overhead(ours)} per request = ${pct(ours.overCpu / base.cpu)} of a ${fmt(base.cpu)} ns request; ` +
        peers.map((p) => `${p.name.slice(label.length + 2)} adds ${overhead(p)} (ours ${ratio(ours.overCpu, p.overCpu)})`).join('; '),
    );
  }
  for (const [label, rows, okRows] of [
    ['http.get', httpRefusal, httpRows],
    ['fetch', fetchRefusal, fetchRows],
  ]) {
    const ours = rows.find((r) => r.name.includes('refused by ours'));
    const dead = rows.find((r) => r.name.includes('ECONNREFUSED'));
    const peer = fastest(peersOf(rows));
    console.log(
      `- ${label} refused: ${fmt(ours.cpu)} ns/call = ${ratio(ours.cpu, dead.cpu)} of ECONNREFUSED (${fmt(dead.cpu)} ns), ` +
        `${ratio(ours.cpu, okRows[0].cpu)} of a successful request, ` +
        `${ratio(ours.cpu, peer.cpu)} of the fastest peer fast-fail (${peer.name.slice(label.length + 2)}, ${fmt(peer.cpu)} ns)`,
    );
  }
  for (const f of otel.findings) console.log(`- ${f}`);
  console.log(`\n(${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

// ---------------------------------------------------------------------------------------------
// Section 4: official @opentelemetry/instrumentation-http and -undici, then ours on top

async function otelMain(port) {
  const api = require('@opentelemetry/api');
  const { BasicTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
  const { registerInstrumentations } = require('@opentelemetry/instrumentation');
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
  const { UndiciInstrumentation } = require('@opentelemetry/instrumentation-undici');
  // The context manager NodeTracerProvider registers, from sdk-trace-node's own dependency.
  const { AsyncLocalStorageContextManager } = createRequire(require.resolve('@opentelemetry/sdk-trace-node'))(
    '@opentelemetry/context-async-hooks',
  );

  let ended = 0;
  const exporter = { export: (spans, done) => done({ code: 0 }), shutdown: async () => {}, forceFlush: async () => {} };
  const counter = { onStart() {}, onEnd: () => void ended++, forceFlush: async () => {}, shutdown: async () => {} };
  const provider = new BasicTracerProvider({ spanProcessors: [counter, new BatchSpanProcessor(exporter)] });
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  api.trace.setGlobalTracerProvider(provider);
  const official = [new HttpInstrumentation(), new UndiciInstrumentation()];
  registerInstrumentations({ instrumentations: official });

  const http = require('node:http'); // after the instrumentations: they patch it as it loads
  const lib = await import('../dist/index.js');
  const agent = new http.Agent({ keepAlive: true });
  const plugin = pluginToggle(lib, `http://127.0.0.1:${port}`);

  const sections = [
    ['http.get', makeHttpGet(http, agent, port)],
    ['fetch', makeFetch(port)],
  ];
  const findings = [];
  for (const [label, request] of sections) {
    let spans = 0;
    let successes = 0;
    const v = (name, extra) => ({ name, n: OK_N, loop: makeLoop(SUCCESS.plain)(request, request), ...extra });
    const countSpans = {
      begin: () => void (spans = ended),
      teardown: async (n) => {
        if (ended - spans < n) throw new Error(`${label}: ${ended - spans} spans for ${n} requests; the official instrumentation is not active`);
      },
    };
    const rows = await interleaved(
      [
        v(`${label}, official instrumentation (baseline)`, countSpans),
        v(`${label}, official + ours`, {
          setup: () => plugin.on(),
          begin: () => {
            spans = ended;
            successes = plugin.breaker.successes;
          },
          teardown: async (n) => {
            const counted = plugin.breaker.successes - successes;
            await plugin.off();
            if (ended - spans < n || counted !== n) throw new Error(`${label}: ${ended - spans} spans, ${counted} guarded, for ${n} requests`);
          },
        }),
        v(`${label}, no instrumentation [info]`, {
          setup: async () => official.forEach((i) => i.disable()),
          teardown: async () => official.forEach((i) => i.enable()),
        }),
      ],
      OK_ROUNDS,
    );
    const [base, ours, bare] = rows;
    console.log(
      '4. With @opentelemetry/instrumentation-http and -undici (spans recorded, batch processor, no-op exporter): ' +
        `${label} (${OK_ROUNDS} rounds × ${fmt(OK_N)} requests)`,
    );
    table(
      ['variant', 'CPU ns/req', 'wall ns/req', 'minus baseline CPU ns', 'IQR', 'minus baseline wall ns', '% of req CPU'],
      rows.map((r) => [
        r.name,
        fmt(r.cpu),
        fmt(r.wall),
        r === base ? '—' : fmt(r.overCpu),
        r === base ? '—' : `${fmt(r.iqr[0])}..${fmt(r.iqr[1])}`,
        r === base ? '—' : fmt(r.overWall),
        r === base ? '—' : pct(r.overCpu / base.cpu),
      ]),
    );
    console.log('');
    findings.push(
      `${label} with official instrumentation: ours adds ${overhead(ours)} per request = ` +
        `${pct(ours.overCpu / base.cpu)} of a ${fmt(base.cpu)} ns instrumented request; ` +
        `the official instrumentation itself costs ${fmt(-bare.overCpu)} ns (ours ${ratio(ours.overCpu, -bare.overCpu)} of it)`,
    );
  }
  agent.destroy();
  await provider.shutdown();
  process.send({ findings }, () => process.disconnect());
}

// ---------------------------------------------------------------------------------------------

const mode = process.argv[2];
if (mode === '--server') await serve();
else if (mode === '--otel') await otelMain(Number(process.argv[3]));
else await main();
