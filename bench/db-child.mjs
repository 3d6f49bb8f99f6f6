// The variants of bench/db.mjs, run in this process on the parent's request (IPC), one at a time.
// Role `main`: our plugin is live all along (as `new SelfHealing()` in an app), and its three DB
// instrumentations are enabled only during ours' runs; disabled, their prototype wrappers pass
// calls straight through, so the baseline and the peers run the same client code as ours minus
// our guard (the pass-through costs one property read and one `apply`). Role `pristine`: a
// process where our plugin never loaded, running the plain call: how far a process that was
// never patched is from the baseline (pass-through plus the difference between two processes).

import { createHook } from 'node:async_hooks';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

const require = createRequire(import.meta.url);
const ROLE = process.argv[2]; // 'main' or 'pristine'
const DEAD = Number(process.argv[3]); // a port nothing listens on
const LONG = 3_600_000; // ms; keeps every peer's reset/half-open timer out of the measured window
const OPOSSUM_LEAN = { timeout: false, rollingPercentilesEnabled: false, enableSnapshots: false };
const KEY = 'otel-self-heal:bench:db';
const gc = globalThis.gc;
const PG = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' };
const MY = { host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'test' };

// The plugin first, then the clients: the order of a NodeSDK app (it also patches copies already loaded).
let plugin;
let dbGuards = [];
if (ROLE === 'main') {
  const lib = await import('../dist/index.js');
  plugin = new lib.SelfHealing({ officialInstrumentations: false });
  dbGuards = plugin.instrumentations.filter((i) => /instrumentation-(pg|mysql2|ioredis)$/.test(i.instrumentationName));
  if (dbGuards.length !== 3) throw new Error(`expected our 3 DB instrumentations, found ${dbGuards.map((i) => i.instrumentationName)}`);
}
/** Our DB guards on (ours) or off (every other variant): enable() re-activates the wrappers already in place. */
const guards = (on) => dbGuards.forEach((i) => (on ? i.enable() : i.disable()));

const pg = require('pg');
const mysql = require('mysql2');
const Redis = require('ioredis');

const client = new pg.Client(PG);
await client.connect();
const pool = new pg.Pool({ ...PG, max: 2 });
const myPool = mysql.createPool({ ...MY, connectionLimit: 2 }).promise();
const redis = new Redis({ host: '127.0.0.1', port: 6379 });
await redis.set(KEY, 'v');
guards(false);

/** Clients of the closed port, made on first use (only the baseline variant fails for real). */
let deadPg;
let deadMy;
const dead = {
  'pg.client': () => new pg.Client({ ...PG, port: DEAD }).connect(), // a pg Client connects once: a new one per call
  'pg.pool': () => (deadPg ??= new pg.Pool({ ...PG, port: DEAD })).query('SELECT 1'),
  'mysql2.pool': () => (deadMy ??= mysql.createPool({ ...MY, port: DEAD }).promise()).query('SELECT 1'),
  // A command on a server that is down: a lazy client connects for it and is refused. connectTimeout
  // 0: its 10 s socket timer outlives the refused socket and would fire later inside another run.
  ioredis: async () => {
    const r = new Redis({ host: '127.0.0.1', port: DEAD, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 0 });
    let refused;
    r.on('error', (e) => (refused = e));
    try {
      return await r.get(KEY);
    } catch (e) {
      throw refused ?? e;
    } finally {
      r.disconnect();
    }
  },
};

/** The measured call of each section, how its result is checked, and the breaker ours puts it behind. */
const SECTIONS = {
  'pg.client': { call: () => client.query('SELECT 1'), ok: (r) => r.rows.length === 1, breaker: 'postgresql://127.0.0.1:5432/test' },
  'pg.pool': { call: () => pool.query('SELECT 1'), ok: (r) => r.rows.length === 1, breaker: 'postgresql://127.0.0.1:5432/test' },
  'mysql2.pool': { call: () => myPool.query('SELECT 1'), ok: (r) => r[0].length === 1, breaker: 'mysql://127.0.0.1:3306/test' },
  ioredis: { call: () => redis.get(KEY), ok: (v) => v === 'v', breaker: 'redis://127.0.0.1:6379/0' },
};

// ---------------------------------------------------------------------------------------------
// Loops and peers (as in bench/http.mjs)

/** A loop of its own: `new Function` compiles fresh code, so its call sites only ever see one target. */
function makeLoop(body, t, fn, ok) {
  return new Function(
    't',
    'fn',
    'ok',
    `return async function loop(n) {
      let s = 0;
      for (let i = 1; i <= n; i++) {
        ${body}
      }
      return s;
    };`,
  )(t, fn, ok);
}
const CALL = { plain: 'await t()', opossum: 'await t.fire()', cockatiel: 'await t.execute(fn)' };
const okBody = (kind) => `s += ok(${CALL[kind]}) ? 1 : 0;`;
const failBody = (kind) => `try { ${CALL[kind]}; } catch (e) { s += ok(e) ? 1 : 0; }`;

/** A CommonJS package loaded again from scratch: each breaker gets its own copy of its library's code. */
function freshRequire(pkg) {
  const root = dirname(require.resolve(`${pkg}/package.json`));
  for (const key of Object.keys(require.cache)) if (key.startsWith(root)) delete require.cache[key];
  return require(pkg);
}
const opossums = [];
function opossum(fn, options, lib = freshRequire('opossum')) {
  const b = new lib(fn, { resetTimeout: LONG, ...options });
  opossums.push(b);
  return b;
}
function cockatiel(lib = freshRequire('cockatiel')) {
  return lib.circuitBreaker(lib.handleAll, { halfOpenAfter: LONG, breaker: new lib.ConsecutiveBreaker(5) });
}
const refusedByOpossum = (e) => e?.code === 'EOPENBREAKER';
const refusedByCockatiel = (e) => e?.isIsolatedCircuitError === true;
const refusedByOurs = (e) => e?.code === 'ECIRCUITOPEN';
const connRefused = (e) => e?.code === 'ECONNREFUSED';

/**
 * What `variant` runs for a section and mode: `{ loop, setup?, teardown?, count? }`; `count()`
 * read before and after the timed calls proves our breaker saw (or refused) every one of them.
 */
function task(variant, section, mode) {
  const s = SECTIONS[section];
  const breaker = () => plugin.breakers.get(s.breaker);
  if (mode === 'ok') {
    if (variant === 'opossum') return { loop: makeLoop(okBody('opossum'), opossum(s.call), s.call, s.ok) };
    if (variant === 'opossum-lean') return { loop: makeLoop(okBody('opossum'), opossum(s.call, OPOSSUM_LEAN), s.call, s.ok) };
    if (variant === 'cockatiel') return { loop: makeLoop(okBody('cockatiel'), cockatiel(), s.call, s.ok) };
    const t = { loop: makeLoop(okBody('plain'), s.call, s.call, s.ok) };
    if (variant === 'ours') Object.assign(t, { setup: () => guards(true), teardown: () => guards(false), count: () => breaker().successes });
    return t;
  }
  if (variant === 'baseline') return { loop: makeLoop(failBody('plain'), dead[section], null, connRefused) };
  if (variant === 'ours') {
    return {
      loop: makeLoop(failBody('plain'), s.call, s.call, refusedByOurs),
      setup: () => {
        guards(true);
        breaker().forceOpen();
      },
      teardown: () => {
        breaker().reset();
        guards(false);
      },
      count: () => breaker().rejections,
    };
  }
  if (variant === 'opossum' || variant === 'opossum-lean') {
    const b = opossum(s.call, variant === 'opossum' ? {} : OPOSSUM_LEAN);
    b.open();
    return { loop: makeLoop(failBody('opossum'), b, s.call, refusedByOpossum) };
  }
  if (variant === 'cockatiel') {
    const b = cockatiel();
    b.isolate(); // held open; each call rejects with a new IsolatedCircuitError
    return { loop: makeLoop(failBody('cockatiel'), b, s.call, refusedByCockatiel) };
  }
  throw new Error(`${variant} has no ${mode} task`);
}

const tasks = new Map();
/** One timed run: setup, `pre` untimed calls, then `n` timed ones; CPU and wall ns per call. */
async function run({ variant, section, mode, n, pre }) {
  const id = `${variant} ${section}/${mode}`;
  if (!tasks.has(id)) tasks.set(id, task(variant, section, mode));
  const t = tasks.get(id);
  await t.setup?.();
  try {
    await t.loop(pre); // re-optimizes after a toggle, refills the pool
    const before = t.count?.();
    gc({ type: 'minor' }); // young garbage of the previous run is not charged to this one
    const c0 = process.cpuUsage();
    const w0 = process.hrtime.bigint();
    const s = await t.loop(n);
    const wall = Number(process.hrtime.bigint() - w0);
    const c = process.cpuUsage(c0);
    const seen = t.count ? t.count() - before : n;
    if (s !== n) throw new Error(`${id}: ${s} of ${n} calls ended as expected`);
    if (seen !== n) throw new Error(`${id}: our breaker counted ${seen} of ${n} calls`);
    return { cpu: ((c.user + c.system) * 1000) / n, wall: wall / n };
  } finally {
    await t.teardown?.();
  }
}

// ---------------------------------------------------------------------------------------------
// Memory per guarded destination: `count` distinct destinations (loopback hosts 127.x.y.z on the
// closed port), one pg connect each, refused by the OS. One failure per destination stays below
// every trip rule (breaker minimumRequests 10, health minCalls 5): nothing opens, nothing recovers.

const peerBreakers = new Map(); // the peers: one breaker per destination, as a user keeps them
const connectTo = (host) => () => new pg.Client({ ...PG, host, port: DEAD }).connect();
function guarded(variant, host) {
  if (variant === 'baseline' || variant === 'ours') return connectTo(host)();
  const key = `${variant} postgresql://${host}:${DEAD}/test`;
  let b = peerBreakers.get(key);
  if (variant === 'cockatiel') {
    if (!b) peerBreakers.set(key, (b = cockatiel(require('cockatiel'))));
    return b.execute(connectTo(host));
  }
  if (!b) peerBreakers.set(key, (b = opossum(connectTo(host), variant === 'opossum' ? {} : OPOSSUM_LEAN, require('opossum'))));
  return b.fire();
}

/**
 * Timers (Timeout) created while the hook is on and not yet destroyed: an async hook, since
 * `process.getActiveResourcesInfo()` leaves out unref()ed timers (opossum's are).
 */
const timers = new Set();
const timerHook = createHook({
  init(id, type) {
    if (type === 'Timeout') timers.add(id);
  },
  destroy(id) {
    timers.delete(id);
  },
});

const tick = () => new Promise((resolve) => setImmediate(resolve));
const hostsFrom = (from, count) => Array.from({ length: count }, (_, k) => `127.${1 + ((from + k) >> 16)}.${((from + k) >> 8) & 255}.${(from + k) & 255}`);

/** Calls every destination once, 16 at a time; throws unless each connect was refused by the OS. */
async function callAll(variant, hosts) {
  let refused = 0;
  let next = 0;
  const worker = async () => {
    while (next < hosts.length) {
      await guarded(variant, hosts[next++]).then(
        () => undefined,
        (e) => void (refused += connRefused(e) ? 1 : 0),
      );
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  if (refused !== hosts.length) throw new Error(`${variant} memory: ${refused} of ${hosts.length} connects were refused`);
}

/**
 * Full GCs until the heap stops shrinking: V8 frees some memory only over several (bytecode of
 * functions unused since the CPU sections is flushed after a few GCs; finalizers run later), so
 * at least 4, and until three readings in a row agree within 16 KB.
 */
async function settledHeap() {
  const readings = [];
  for (let i = 0; i < 24; i++) {
    await tick();
    gc();
    const m = process.memoryUsage();
    readings.push(m.heapUsed + m.arrayBuffers); // ArrayBuffer backing stores live outside the V8 heap
    const last = readings.slice(-3);
    if (i >= 3 && Math.max(...last) - Math.min(...last) < 16_384) break;
  }
  return readings.at(-1);
}

/** What our plugin holds: breakers, health components, latency anomaly detectors (and their cap). */
function pluginState() {
  if (!plugin) return {};
  const counts = plugin.health.systemHealth().counts;
  return {
    breakers: plugin.breakers.size,
    components: counts.healthy + counts.degraded + counts.critical + counts.failed,
    detectors: plugin.health.anomalyScores().length,
    maxDetectors: plugin.options.health?.maxAnomalyDetectors ?? 100,
  };
}

/** Heap (and off-heap) bytes per destination for `count` new destinations, and the plugin's state after. */
async function memory({ variant, from, count }) {
  const hosts = hostsFrom(from, count); // allocated before the first reading: net of the list
  if (variant === 'ours') guards(true);
  try {
    const before = await settledHeap();
    await callAll(variant, hosts);
    return { bytes: ((await settledHeap()) - before) / count, ...pluginState() };
  } finally {
    if (variant === 'ours') guards(false);
  }
}

/** Timers created for `count` new destinations and still live once their calls settled (a pass of its own: the hook's set is not charged to memory). */
async function liveTimers({ variant, from, count }) {
  const hosts = hostsFrom(from, count);
  if (variant === 'ours') guards(true);
  timers.clear();
  timerHook.enable();
  try {
    await callAll(variant, hosts);
    await tick(); // destroy hooks of cleared timers arrive asynchronously, and only while enabled
    await tick();
    return timers.size / count;
  } finally {
    timerHook.disable();
    if (variant === 'ours') guards(false);
  }
}

async function end() {
  for (const b of opossums) b.shutdown();
  await client.end();
  await pool.end();
  await myPool.end();
  await deadPg?.end();
  await deadMy?.end();
  redis.disconnect();
  await plugin?.shutdown();
}

const OPS = { run, memory, timers: liveTimers, state: pluginState, end };
process.on('message', async (m) => {
  let reply;
  try {
    reply = { id: m.id, value: await OPS[m.op](m) };
  } catch (err) {
    reply = { id: m.id, error: String(err?.stack ?? err) };
  }
  process.send(reply, () => {
    if (m.op === 'end') process.disconnect();
  });
});
process.on('disconnect', () => process.exit(0)); // the parent is gone (or ended us): no client keeps this process alive
process.send({ ready: true });
