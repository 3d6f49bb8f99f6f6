/**
 * The package as users get it: `npm pack`, installed into a fresh consumer project next to the
 * OpenTelemetry packages it is used with, then exercised by real `node` processes (CommonJS,
 * ESM, zero-code `--import`/`--require`) against a real local server that answers 503.
 * This catches what source-level tests cannot: the exports map, the `files` list, missing
 * `dependencies`, the CJS/ESM builds and their declarations, and handles left open at exit.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'node_modules', '.bin');

/**
 * What a consumer installs beside us, at the exact versions of our lockfile so the install is
 * served from the local npm cache. `@types/node` is there for the TypeScript consumer: our
 * declarations import `node:http`.
 */
const CONSUMER_PACKAGES = [
  '@opentelemetry/api',
  '@opentelemetry/api-logs',
  '@opentelemetry/sdk-node',
  '@opentelemetry/sdk-trace-base',
  '@opentelemetry/instrumentation-http',
  '@opentelemetry/instrumentation-undici',
  '@types/node',
];

/** A consumer script must exit by itself well within this (ms); past it, it is killed. */
const EXIT_TIMEOUT_MS = 15_000;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs = EXIT_TIMEOUT_MS): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut, ms: Date.now() - started });
    });
  });
}

/** The environment of the parent minus what would make a child differ from a user's shell. */
function cleanEnv(): NodeJS.ProcessEnv {
  const keepNpm = /^npm_config_(cache|registry|userconfig|cafile|proxy|https_proxy|noproxy)$/i;
  const drop = /^(NODE_OPTIONS|NODE_ENV|INIT_CWD|VITEST.*|OTEL_.*|SELFHEAL_.*|npm_.*)$/i;
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => keepNpm.test(k) || !drop.test(k)));
}

/** Env for consumer processes: no exporters, so nothing retries against a missing collector (research/otel.md addendum, trap 3). */
function nodeEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...cleanEnv(), OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none', ...extra };
}

/** The JSON a consumer script printed on its `RESULT ` line. */
function resultOf(r: Run): any {
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`no RESULT line (exit ${r.code}, signal ${r.signal})\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return JSON.parse(line.slice('RESULT '.length));
}

/** Asserts the process ended by itself, successfully, within the timeout. */
function expectCleanExit(r: Run): void {
  const detail = `exit ${r.code}, signal ${r.signal}, ${r.ms} ms\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
  expect(r.timedOut, `did not exit by itself within ${EXIT_TIMEOUT_MS} ms (a lingering handle?)\n${detail}`).toBe(false);
  expect(r.code, detail).toBe(0);
}

/** Every file the package.json `exports` map points at. */
function exportTargets(exportsField: unknown): string[] {
  if (typeof exportsField === 'string') return [exportsField];
  if (exportsField && typeof exportsField === 'object') return Object.values(exportsField).flatMap(exportTargets);
  return [];
}

// ---------------------------------------------------------------------------------------------
// Consumer project files. Only node: modules in the harness, so it cannot hide a missing dependency.

const HARNESS_CJS = String.raw`
// A downstream that is down: every request gets 503 and its connection is closed, so every
// request the client really sends shows up as one more connection.
const http = require('node:http');

exports.startFailingServer = async function startFailingServer() {
  const seen = { connections: 0, requests: 0 };
  const server = http.createServer((req, res) => {
    seen.requests++;
    res.writeHead(503, { connection: 'close', 'content-type': 'text/plain' });
    res.end('unavailable');
  });
  server.on('connection', () => seen.connections++);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = 'http://127.0.0.1:' + server.address().port + '/';
  return { url, origin: new URL(url).origin, seen, close: () => new Promise((resolve) => server.close(resolve)) };
};

/** Resolves with { status } or { error }, never rejects. */
exports.httpGet = function httpGet(http, url) {
  return new Promise((resolve) => {
    http
      .get(url, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode }));
      })
      .on('error', (error) => resolve({ error }));
  });
};

exports.fetchOnce = async function fetchOnce(url) {
  try {
    const res = await fetch(url);
    await res.text();
    return { status: res.status };
  } catch (error) {
    return { error };
  }
};

/** Makes the calls one after another, noting what the server had seen after each. */
exports.callRepeatedly = async function callRepeatedly(server, count, call, describeError) {
  const calls = [];
  for (let i = 0; i < count; i++) {
    const r = await call(server.url);
    calls.push({ ...(r.error ? { error: describeError(r.error) } : { status: r.status }), seen: { ...server.seen } });
  }
  return calls;
};

exports.report = (value) => console.log('RESULT ' + JSON.stringify(value));
`;

const CJS_CONSUMER = String.raw`
const http = require('node:http');
const { NodeSDK } = require('@opentelemetry/sdk-node');
const { withSelfHealing, getSelfHealing, isCircuitOpenError } = require('otel-self-heal');
const { startFailingServer, httpGet, callRepeatedly, report } = require('./harness.cjs');

const sdk = new NodeSDK(withSelfHealing({}, { breaker: { minimumRequests: 3, resetTimeout: 60000 } }));
sdk.start();

(async () => {
  const server = await startFailingServer();
  const calls = await callRepeatedly(server, 7, (url) => httpGet(http, url), (err) => ({
    name: err.name,
    code: err.code,
    isCircuitOpenError: isCircuitOpenError(err),
  }));
  const breakers = getSelfHealing().breakers.list().map((b) => ({ name: b.name, state: b.state }));
  report({ origin: server.origin, calls, breakers });
  await server.close();
  await sdk.shutdown();
  // No process.exit(): the process must end because nothing is left running.
})();
`;

const ESM_CONSUMER = String.raw`
import { NodeSDK } from '@opentelemetry/sdk-node';
import { withSelfHealing, getSelfHealing, isCircuitOpenError } from 'otel-self-heal';
import harness from './harness.cjs';

const sdk = new NodeSDK(withSelfHealing({}, { breaker: { minimumRequests: 3, resetTimeout: 60000 } }));
sdk.start();

const server = await harness.startFailingServer();
const calls = await harness.callRepeatedly(server, 6, harness.fetchOnce, (err) => ({
  name: err.name,
  isTypeError: err instanceof TypeError,
  causeCode: err.cause?.code,
  isCircuitOpenError: isCircuitOpenError(err),
}));
const breakers = getSelfHealing().breakers.list().map((b) => ({ name: b.name, state: b.state }));
harness.report({ origin: server.origin, calls, breakers });
await server.close();
await sdk.shutdown();
`;

// Zero-code apps: they never import otel-self-heal; the register entry does everything.
// The ESM one imports node:http statically, i.e. before any SDK could hook the import
// (research/otel.md addendum, trap 4).
const APP_MJS = String.raw`
import http from 'node:http';
import harness from './harness.cjs';

const describeError = (err) => ({ code: err.code, causeCode: err.cause?.code });
const server = await harness.startFailingServer();
const viaHttp = await harness.callRepeatedly(server, 5, (url) => harness.httpGet(http, url), describeError);
const viaFetch = await harness.callRepeatedly(server, 2, harness.fetchOnce, describeError);
harness.report({ viaHttp, viaFetch });
await server.close();
`;

const APP_CJS = String.raw`
const http = require('node:http');
const harness = require('./harness.cjs');

const describeError = (err) => ({ code: err.code, causeCode: err.cause && err.cause.code });
(async () => {
  const server = await harness.startFailingServer();
  const viaHttp = await harness.callRepeatedly(server, 5, (url) => harness.httpGet(http, url), describeError);
  const viaFetch = await harness.callRepeatedly(server, 2, harness.fetchOnce, describeError);
  harness.report({ viaHttp, viaFetch });
  await server.close();
})();
`;

const BAD_OPTIONS_CJS = String.raw`
const { report } = require('./harness.cjs');

function attempt(mod) {
  try {
    mod.withSelfHealing({}, { breaker: { failureThreshold: 1.5 } });
    return { threw: false };
  } catch (err) {
    return { threw: true, name: err.name, code: err.code, message: err.message };
  }
}

(async () => {
  report({ viaRequire: attempt(require('otel-self-heal')), viaImport: attempt(await import('otel-self-heal')) });
})();
`;

// Typed consumers: an ESM .ts (the package is "type": "module") resolves the "import" condition
// and index.d.ts; a .cts resolves "require" and index.d.cts. The @ts-expect-error lines fail the
// check if the declarations degrade to `any`.
const TYPES_ESM_TS = String.raw`
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  CircuitOpenError,
  getSelfHealing,
  isCircuitOpenError,
  withSelfHealing,
  type CircuitState,
  type SelfHealingOptions,
} from 'otel-self-heal';

const options: SelfHealingOptions = { breaker: { minimumRequests: 3, resetTimeout: 60_000 } };
const sdk = new NodeSDK(withSelfHealing({}, options));
const state: CircuitState | undefined = getSelfHealing()?.breakers.list()[0]?.state;
const err: unknown = new CircuitOpenError('http://127.0.0.1:1', 'open');
if (isCircuitOpenError(err)) {
  const code: 'ECIRCUITOPEN' = err.code;
  void code;
}
void sdk;
void state;

// @ts-expect-error not a breaker option
withSelfHealing({}, { breaker: { notAnOption: 1 } });
`;

const TYPES_CJS_CTS = String.raw`
import selfHeal = require('otel-self-heal');
import { NodeSDK } from '@opentelemetry/sdk-node';

const sdk = new NodeSDK(selfHeal.withSelfHealing({}, { breaker: { failureThreshold: 0.5 } }));
const open: boolean = selfHeal.isCircuitOpenError(new Error('not ours'));
void sdk;
void open;

// @ts-expect-error failureThreshold is a number
selfHeal.withSelfHealing({}, { breaker: { failureThreshold: 'half' } });
`;

const CONSUMER_TSCONFIG = {
  compilerOptions: {
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    target: 'ES2022',
    strict: true,
    noEmit: true,
    // As most consumers do; what we check is that our declarations resolve and type the API.
    skipLibCheck: true,
    types: ['node'],
  },
  include: ['typed/*.ts', 'typed/*.cts'],
};

// ---------------------------------------------------------------------------------------------

describe('otel-self-heal packed and installed in a consumer project', () => {
  let work: string;
  let consumer: string;
  let packedFiles: string[] = [];

  beforeAll(() => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    // CI builds before testing; build here only when a file the exports map names is missing.
    if (exportTargets(pkg.exports).some((f) => !existsSync(path.join(ROOT, f)))) {
      execFileSync(path.join(BIN, 'tsup'), [], { cwd: ROOT, stdio: 'pipe' });
    }

    work = mkdtempSync(path.join(os.tmpdir(), 'otel-self-heal-e2e-'));
    const npmEnv = cleanEnv();
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT, env: npmEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
    )[0] as { filename: string; files: Array<{ path: string }> };
    packedFiles = packed.files.map((f) => f.path);

    consumer = path.join(work, 'consumer');
    mkdirSync(path.join(consumer, 'typed'), { recursive: true });
    writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }, null, 2));

    const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
    const specs = CONSUMER_PACKAGES.map((name) => {
      const version = lock.packages[`node_modules/${name}`]?.version;
      if (!version) throw new Error(`${name} is not in package-lock.json; the e2e consumer pins versions from it`);
      return `${name}@${version}`;
    });
    execFileSync(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error', path.join(work, packed.filename), ...specs],
      { cwd: consumer, env: npmEnv, stdio: 'pipe' },
    );

    const files: Record<string, string> = {
      'harness.cjs': HARNESS_CJS,
      'cjs-consumer.cjs': CJS_CONSUMER,
      'esm-consumer.mjs': ESM_CONSUMER,
      'app.mjs': APP_MJS,
      'app.cjs': APP_CJS,
      'bad-options.cjs': BAD_OPTIONS_CJS,
      'typed/esm.ts': TYPES_ESM_TS,
      'typed/cjs.cts': TYPES_CJS_CTS,
      'tsconfig.json': JSON.stringify(CONSUMER_TSCONFIG, null, 2),
    };
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(consumer, name), text.trimStart());
  }, 180_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('ships every file its exports map names', () => {
    const pkg = JSON.parse(readFileSync(path.join(consumer, 'node_modules/otel-self-heal/package.json'), 'utf8'));
    const targets = exportTargets(pkg.exports).map((f) => path.posix.normalize(f));
    expect(targets.length).toBeGreaterThan(0);
    for (const target of targets) expect(packedFiles, `${target} is named in "exports" but not in the tarball`).toContain(target);
  });

  it('CommonJS consumer: http.get is refused with ECIRCUITOPEN once the breaker opens, and the process exits by itself', async () => {
    const r = await run(process.execPath, ['cjs-consumer.cjs'], consumer, nodeEnv());
    expectCleanExit(r);
    const { origin, calls, breakers } = resultOf(r);

    // minimumRequests: 3, every call fails: three real 503s, then the breaker is open.
    expect(calls.slice(0, 3).map((c: any) => c.status)).toEqual([503, 503, 503]);
    for (const c of calls.slice(3)) {
      expect(c.error).toEqual({ name: 'CircuitOpenError', code: 'ECIRCUITOPEN', isCircuitOpenError: true });
      // Nothing reached the server after it opened: no new connection, no new request.
      expect(c.seen).toEqual(calls[2].seen);
    }
    expect(calls[2].seen).toEqual({ connections: 3, requests: 3 });
    expect(breakers).toEqual([{ name: origin, state: 'open' }]);
  });

  it('ESM consumer: fetch rejects with TypeError caused by ECIRCUITOPEN once the breaker opens, and the process exits by itself', async () => {
    const r = await run(process.execPath, ['esm-consumer.mjs'], consumer, nodeEnv());
    expectCleanExit(r);
    const { origin, calls, breakers } = resultOf(r);

    expect(calls.slice(0, 3).map((c: any) => c.status)).toEqual([503, 503, 503]);
    for (const c of calls.slice(3)) {
      expect(c.error).toEqual({ name: 'TypeError', isTypeError: true, causeCode: 'ECIRCUITOPEN', isCircuitOpenError: true });
      expect(c.seen).toEqual(calls[2].seen);
    }
    expect(calls[2].seen.requests).toBe(3);
    expect(breakers).toEqual([{ name: origin, state: 'open' }]);
  });

  it('TypeScript consumer (NodeNext): an ESM .ts and a .cts type-check against index.d.ts and index.d.cts', async () => {
    const r = await run(path.join(BIN, 'tsc'), ['-p', 'tsconfig.json', '--listFiles'], consumer, cleanEnv(), 60_000);
    const errors = r.stdout.split('\n').filter((l) => /error TS\d+/.test(l)).join('\n');
    expect(r.timedOut).toBe(false);
    expect(r.code, errors || r.stderr).toBe(0);
    const ours = r.stdout
      .split('\n')
      .filter((l) => l.includes('/node_modules/otel-self-heal/'))
      .map((l) => path.basename(l.trim()))
      .sort();
    expect(ours).toEqual(['index.d.cts', 'index.d.ts']);
  }, 90_000);

  describe('zero-code start (the app never imports otel-self-heal)', () => {
    const env = () => nodeEnv({ SELFHEAL_BREAKER_MINIMUM_REQUESTS: '3' });

    function expectGuarded(result: any): void {
      const { viaHttp, viaFetch } = result;
      expect(viaHttp.slice(0, 3).map((c: any) => c.status)).toEqual([503, 503, 503]);
      for (const c of viaHttp.slice(3)) {
        expect(c.error.code).toBe('ECIRCUITOPEN');
        expect(c.seen).toEqual(viaHttp[2].seen);
      }
      // fetch goes to the same destination, so the same (open) breaker refuses it.
      for (const c of viaFetch) {
        expect(c.error.causeCode).toBe('ECIRCUITOPEN');
        expect(c.seen).toEqual(viaHttp[2].seen);
      }
    }

    it('node --import otel-self-heal/register guards an ESM app that imports node:http statically, and it exits by itself', async () => {
      const r = await run(process.execPath, ['--import', 'otel-self-heal/register', 'app.mjs'], consumer, env());
      expectCleanExit(r);
      expectGuarded(resultOf(r));
    });

    it('node --require otel-self-heal/register guards a CommonJS app, and it exits by itself', async () => {
      const r = await run(process.execPath, ['--require', 'otel-self-heal/register', 'app.cjs'], consumer, env());
      expectCleanExit(r);
      expectGuarded(resultOf(r));
      // The ESM loader hook is installed from --import only; from --require Node 20 initialises it twice.
      expect(r.stderr).not.toContain('already been initialized');
    });
  });

  describe('bad configuration', () => {
    it('withSelfHealing throws a ConfigValidationError naming breaker.failureThreshold and the bad value, from require and import', async () => {
      const r = await run(process.execPath, ['bad-options.cjs'], consumer, nodeEnv());
      expectCleanExit(r);
      const { viaRequire, viaImport } = resultOf(r);
      for (const outcome of [viaRequire, viaImport]) {
        expect(outcome.threw).toBe(true);
        expect(outcome.name).toBe('ConfigValidationError');
        expect(outcome.message).toContain('breaker.failureThreshold must be between 0 and 1');
        expect(outcome.message).toContain('got 1.5');
      }
    });

    it.each([
      ['--import', 'app.mjs'],
      ['--require', 'app.cjs'],
    ])('register (%s) with SELFHEAL_BREAKER_FAILURE_THRESHOLD=abc names the variable and the value, and the app still runs', async (flag, app) => {
      const r = await run(process.execPath, [flag, 'otel-self-heal/register', app], consumer, nodeEnv({ SELFHEAL_BREAKER_FAILURE_THRESHOLD: 'abc' }));
      expectCleanExit(r);
      expect(r.stderr).toMatch(/otel-self-heal\/register: SELFHEAL_BREAKER_FAILURE_THRESHOLD must be a number, got "abc"; starting OpenTelemetry without self-healing/);
    });
  });
});
