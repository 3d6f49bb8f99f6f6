import { fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// A real Prometheus scrapes a real app (test/fixtures/prometheus-app.mjs: NodeSDK + otel-self-heal +
// the SDK's PrometheusExporter) that calls a downstream this test breaks and mends, with the
// shipped rules loaded. Only the rules' `for:` durations are shortened (in a temporary copy), from
// minutes to 2 s, so that an alert's whole life fits in seconds; expressions, labels and
// annotations are the shipped ones.
const ROOT = resolve(import.meta.dirname, '../..');
const PROMETHEUS = process.env.PROMETHEUS ?? '/usr/bin/prometheus';
const ALERT = 'SelfHealBreakerOpen';
const FOR = '2s';

interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = net.createServer().once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => done(port));
    });
  });
}

/** Polls `probe` every 200 ms until it returns a value (not undefined), or fails after `timeoutMs` saying what it waited for. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('the breaker-open alert in a real Prometheus', () => {
  const downstream = { failing: false };
  let server: http.Server;
  let app: ChildProcess | undefined;
  let prometheus: ChildProcess | undefined;
  let prometheusLog = '';
  let dir: string;
  let api: string;
  let origin: string;

  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${api}${path}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`${path}: ${body.error}`);
    return body.data;
  };
  const alerts = async (): Promise<PromAlert[]> =>
    (await get<{ alerts: PromAlert[] }>('/api/v1/alerts')).alerts.filter((a) => a.labels.alertname === ALERT && a.labels.selfheal_breaker_name === origin);
  const query = (promql: string) => get<{ result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(`/api/v1/query?query=${encodeURIComponent(promql)}`);

  beforeAll(async () => {
    if (!existsSync(PROMETHEUS)) throw new Error(`prometheus not found at ${PROMETHEUS}: install Debian's prometheus package (apt-get install prometheus), as .ci/run does, or set PROMETHEUS`);
    if (!existsSync(join(ROOT, 'dist/index.js'))) throw new Error('dist/ is missing: run `npm run build` first (the fixture app loads the built package)');

    server = http.createServer((req, res) => {
      res.statusCode = downstream.failing ? 503 : 200;
      res.end(downstream.failing ? 'unavailable' : 'ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;

    app = fork(join(ROOT, 'test/fixtures/prometheus-app.mjs'), [], { env: { ...process.env, DOWNSTREAM_URL: `${origin}/stock` }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    let appLog = '';
    app.stdout!.on('data', (d) => (appLog += d));
    app.stderr!.on('data', (d) => (appLog += d));
    const metricsUrl = await new Promise<string>((done, fail) => {
      app!.once('message', (m: { metricsUrl: string }) => done(m.metricsUrl));
      app!.once('exit', (code) => fail(new Error(`the fixture app exited (${code}):\n${appLog}`)));
    });

    dir = mkdtempSync(join(tmpdir(), 'selfheal-prometheus-'));
    const rules = readFileSync(join(ROOT, 'collector-config/prometheus/rules/selfheal.rules.yml'), 'utf8');
    const shortened = rules.replace(/^(\s+for:) \S+$/gm, `$1 ${FOR}`);
    expect(shortened).toContain(`for: ${FOR}`);
    writeFileSync(join(dir, 'selfheal.rules.yml'), shortened);
    const target = new URL(metricsUrl);
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        'rule_files: [selfheal.rules.yml]',
        'scrape_configs:',
        '  - job_name: selfheal-fixture',
        `    metrics_path: ${target.pathname}`,
        `    static_configs: [{ targets: ["${target.host}"] }]`,
        '',
      ].join('\n'),
    );
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      PROMETHEUS,
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prometheus.stdout!.on('data', (d) => (prometheusLog += d));
    prometheus.stderr!.on('data', (d) => (prometheusLog += d));
    prometheus.once('exit', (code) => (prometheusLog += `\n[prometheus exited with ${code}]`));
    await until('Prometheus to be ready', async () => {
      if (prometheusLog.includes('[prometheus exited')) throw new Error(prometheusLog);
      return (await fetch(`${api}/-/ready`).then((r) => r.ok, () => false)) || undefined;
    });
  }, 45_000);

  afterAll(async () => {
    const stop = (child: ChildProcess | undefined, signal: NodeJS.Signals) =>
      child && child.exitCode === null && child.signalCode === null
        ? new Promise<void>((r) => {
            const t = setTimeout(() => (child.kill('SIGKILL'), r()), 5000);
            child.once('exit', () => (clearTimeout(t), r()));
            child.kill(signal);
          })
        : undefined;
    await Promise.all([stop(prometheus, 'SIGTERM'), stop(app, 'SIGTERM')]);
    await new Promise((r) => server?.close(r));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('goes pending, then firing while the downstream fails, and resolves once it recovers', async () => {
    // Healthy: Prometheus scrapes the breaker closed, and the rule is inactive.
    const closed = await until('a scrape of the closed breaker', async () => {
      const r = await query(`selfheal_breaker_state{selfheal_breaker_name="${origin}"}`);
      return r.result[0]?.value[1] === '0' ? r.result[0] : undefined;
    });
    expect(closed.metric).toMatchObject({ job: 'selfheal-fixture', otel_scope_name: 'otel-self-heal' });
    expect(await alerts()).toEqual([]);

    downstream.failing = true;
    const seen = new Set<string>();
    const firing = await until('the alert to fire', async () => {
      const a = (await alerts())[0];
      if (a) seen.add(a.state);
      return a?.state === 'firing' ? a : undefined;
    });
    expect(firing.labels).toMatchObject({ alertname: ALERT, severity: 'warning', job: 'selfheal-fixture', selfheal_breaker_name: origin });
    expect(firing.annotations.summary).toBe(`Circuit breaker ${origin} has not closed for over 1 minute`);
    // Pending first: Prometheus's own record of the alert's states (polling alone could miss it).
    const history = await get<{ result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> }>(
      `/api/v1/query_range?query=${encodeURIComponent(`ALERTS{alertname="${ALERT}"}`)}&start=${Date.now() / 1000 - 120}&end=${Date.now() / 1000}&step=1`,
    );
    const firstAt = (state: string) => history.result.find((s) => s.metric.alertstate === state)?.values[0]?.[0];
    expect(firstAt('pending'), `states seen by polling: ${[...seen].join(', ')}`).toBeDefined();
    expect(firstAt('pending')!).toBeLessThan(firstAt('firing')!);

    downstream.failing = false;
    await until('the alert to resolve', async () => ((await alerts()).length === 0 ? true : undefined), 30_000);
    const rule = (await get<{ groups: Array<{ rules: Array<{ name: string; state: string; health: string }> }> }>('/api/v1/rules')).groups
      .flatMap((g) => g.rules)
      .find((r) => r.name === ALERT);
    expect(rule).toMatchObject({ state: 'inactive', health: 'ok' });
    expect((await query(`selfheal_breaker_state{selfheal_breaker_name="${origin}"}`)).result[0]?.value[1]).toBe('0');
  }, 60_000);

  it('evaluates every rule without error and every dashboard query against the live series', async () => {
    const groups = (await get<{ groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> }>('/api/v1/rules')).groups;
    const rules = groups.flatMap((g) => g.rules);
    expect(rules.length).toBe(7);
    for (const r of rules) expect(r.health, `${r.name}: ${r.lastError}`).toBe('ok');

    const dashboard = readFileSync(join(ROOT, 'collector-config/grafana/dashboards/selfheal.json'), 'utf8');
    const exprs = (JSON.parse(dashboard).panels as Array<{ targets?: Array<{ expr: string }> }>).flatMap((p) => p.targets ?? []).map((t) => t.expr);
    expect(exprs.length).toBeGreaterThan(5);
    for (const expr of exprs) {
      const promql = expr.replaceAll('$job', '.*').replaceAll('$instance', '.*').replaceAll('$__rate_interval', '1m');
      const r = await query(promql);
      // Series exist for what the app emits; the optimizer's and the recovery recording's may not yet.
      if (/selfheal_(breaker|component|anomaly|config)_/.test(expr)) expect(r.result.length, expr).toBeGreaterThan(0);
    }
  });
});
