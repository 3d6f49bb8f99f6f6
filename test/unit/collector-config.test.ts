import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as N from '../../src/telemetry/names.js';
import {
  ROOT,
  collect,
  collectorName,
  emittedMetrics,
  equalityMatchersIn,
  labelNamesIn,
  metricNamesIn,
  readYaml,
  relabelName,
  squash,
  templateLabels,
  type EmittedMetric,
} from './collector-config-helpers.js';

const RULES = 'collector-config/prometheus/rules/selfheal.rules.yml';
const PROMETHEUS = 'collector-config/prometheus/prometheus.yml';
const COLLECTOR = 'collector-config/otel-collector.yaml';
const GRAFANA_ALERTS = 'collector-config/grafana/provisioning/alerting/selfheal-alerts.yml';
const DATASOURCES = 'collector-config/grafana/provisioning/datasources/datasources.yml';
const DASHBOARDS = 'collector-config/grafana/provisioning/dashboards/dashboards.yml';
const DASHBOARD = 'collector-config/grafana/dashboards/selfheal.json';

/**
 * Contract metrics (ARCHITECTURE.md) that nothing emits yet, by their Prometheus name: the
 * dashboard already has a panel for them. Drop an entry once names.ts defines the metric.
 */
const PLANNED: Record<string, string> = { selfheal_optimizer_best_fitness: 'selfheal.optimizer.best_fitness' };

const rules = readYaml(RULES);
const ruleList: any[] = rules.groups.flatMap((g: any) => g.rules);
const alerts = ruleList.filter((r) => r.alert);
const recorded = new Set<string>(ruleList.filter((r) => r.record).map((r) => r.record));
const grafanaRules: any[] = readYaml(GRAFANA_ALERTS).groups.flatMap((g: any) => g.rules);
const dashboard = JSON.parse(readFileSync(resolve(ROOT, DASHBOARD), 'utf8'));
const dashboardExprs = collect(dashboard, 'expr') as string[];
const grafanaExpr = (r: any): string => r.data.find((d: any) => d.datasourceUid !== '__expr__').model.expr;
const compose = readYaml('docker-compose.yml');
const collector = readYaml(COLLECTOR);
const prometheus = readYaml(PROMETHEUS);

let emitted: EmittedMetric[];
let byName: Map<string, EmittedMetric>;
beforeAll(async () => {
  emitted = await emittedMetrics();
  byName = new Map(emitted.map((m) => [m.sdkName, m]));
});

/** Every PromQL expression the assets hold, with where it is. */
const everyExpr = (): Array<[string, string]> => [
  ...ruleList.map((r): [string, string] => [`${RULES} ${r.alert ?? r.record}`, r.expr]),
  ...grafanaRules.map((r): [string, string] => [`${GRAFANA_ALERTS} ${r.title}`, grafanaExpr(r)]),
  ...dashboardExprs.map((e): [string, string] => [DASHBOARD, e]),
];

describe('metric names in the rules, dashboard and Grafana alerts', () => {
  it('the telemetry code emits every metric names.ts defines, as a gauge or a _total counter', () => {
    const metricConstants = Object.entries(N).filter(([k]) => k.startsWith('METRIC_')).map(([, v]) => v);
    const hint = 'a metric in names.ts that emittedMetrics() (collector-config-helpers.ts) does not see: make it a series there, then add it to the rules or dashboard';
    expect(emitted.map((m) => m.otelName).sort(), hint).toEqual([...metricConstants].sort());
    expect(byName.get('selfheal_breaker_state')?.kind).toBe('gauge');
    expect(byName.get('selfheal_breaker_calls_total')?.kind).toBe('counter');
  });

  it('reads only metrics the telemetry code emits (Prometheus form) or the rules record', () => {
    const known = new Set([...byName.keys(), ...recorded, ...Object.keys(PLANNED)]);
    const unknown = everyExpr().flatMap(([where, expr]) => metricNamesIn(expr).filter((n) => !known.has(n)).map((n) => `${where}: ${n}`));
    expect(unknown).toEqual([]);
    // Each emitted metric is used somewhere, and each alert reads at least one.
    const used = new Set(everyExpr().flatMap(([, e]) => metricNamesIn(e)));
    expect([...byName.keys()].filter((n) => !used.has(n))).toEqual([]);
    for (const a of alerts) expect(metricNamesIn(a.expr), a.alert).not.toEqual([]);
  });

  it('groups, joins and matches only on labels the series carry', () => {
    const labels = new Set(['job', 'instance', ...emitted.flatMap((m) => [...m.labels.keys()])]);
    const unknown = everyExpr().flatMap(([where, expr]) => labelNamesIn(expr).filter((l) => !labels.has(l)).map((l) => `${where}: ${l}`));
    const templates = [
      ...ruleList.flatMap((r) => Object.values(r.annotations ?? {}) as string[]),
      ...grafanaRules.flatMap((r) => Object.values(r.annotations ?? {}) as string[]),
      ...(collect(dashboard, 'legendFormat') as string[]),
    ];
    const unknownInTemplates = templates.flatMap(templateLabels).filter((l) => !labels.has(l));
    expect([...unknown, ...unknownInTemplates]).toEqual([]);
  });

  it('compares labels only with values the code emits (e.g. selfheal_outcome="success")', () => {
    const values = new Map<string, Set<string>>();
    for (const m of emitted) for (const [l, vs] of m.labels) values.set(l, new Set([...(values.get(l) ?? []), ...vs]));
    const matchers = everyExpr().flatMap(([where, expr]) => equalityMatchersIn(expr).map((m) => ({ where, ...m })));
    expect(matchers.map((m) => m.label)).toContain(N.ATTR_OUTCOME.replaceAll('.', '_'));
    const unknown = matchers.filter((m) => m.label.startsWith('selfheal_') && !values.get(m.label)?.has(m.value));
    expect(unknown.map((m) => `${m.where}: ${m.label}="${m.value}"`)).toEqual([]);
  });

  it('keeps planned names only while the telemetry code does not define them', () => {
    const defined = new Set<unknown>(Object.values(N));
    for (const [prom, otel] of Object.entries(PLANNED)) {
      expect(defined.has(otel), `${otel} is defined now: remove ${prom} from PLANNED`).toBe(false);
      expect(byName.has(prom)).toBe(false);
    }
  });

  it("maps every name the Collector's prometheus exporter gives back to the SDK's name", () => {
    const job = prometheus.scrape_configs.find((s: any) => s.job_name === 'otel-collector');
    const renamed = (name: string) => (job.metric_relabel_configs ?? []).reduce(relabelName, name);
    // The translation differs where expected: unit-1 gauges gain _ratio, counters keep _total.
    expect(collectorName(byName.get('selfheal_breaker_state')!)).toBe('selfheal_breaker_state_ratio');
    expect(collectorName(byName.get('selfheal_breaker_calls_total')!)).toBe('selfheal_breaker_calls_total');
    for (const m of emitted) expect(renamed(collectorName(m)), m.otelName).toBe(m.sdkName);
    expect(renamed('http_client_request_duration_seconds')).toBe('http_client_request_duration_seconds');
  });
});

describe('Prometheus alerts and their Grafana twins', () => {
  it('every Prometheus alert has a Grafana rule with the same PromQL, for and labels', () => {
    expect(alerts.length).toBe(5);
    expect(grafanaRules.map((r) => r.title).sort()).toEqual(alerts.map((a) => a.alert).sort());
    for (const a of alerts) {
      const twin = grafanaRules.find((r) => r.title === a.alert);
      expect(squash(grafanaExpr(twin)), a.alert).toBe(squash(a.expr));
      expect(twin.for, a.alert).toBe(a.for ?? '0s');
      expect(twin.labels, a.alert).toEqual(a.labels);
      expect(a.labels.severity, a.alert).toMatch(/^(warning|critical)$/);
      expect(a.annotations.summary, a.alert).toBeTruthy();
    }
  });

  it('Grafana rules are well formed: unique uids, a condition that exists, known data sources', () => {
    const uids = new Set(readYaml(DATASOURCES).datasources.map((d: any) => d.uid));
    expect(new Set(grafanaRules.map((r) => r.uid)).size).toBe(grafanaRules.length);
    for (const r of grafanaRules) {
      const refIds = r.data.map((d: any) => d.refId);
      expect(refIds, r.title).toContain(r.condition);
      for (const d of r.data) {
        expect(d.datasourceUid === '__expr__' || uids.has(d.datasourceUid), `${r.title} ${d.refId}`).toBe(true);
        if (d.model.expression) expect(refIds, r.title).toContain(d.model.expression);
      }
    }
  });
});

describe('Grafana provisioning and dashboard', () => {
  it('the dashboard references only provisioned data sources', () => {
    const provisioned = new Set(readYaml(DATASOURCES).datasources.map((d: any) => d.uid));
    expect([...provisioned].sort()).toEqual(['jaeger', 'prometheus']);
    const referenced = (collect(dashboard, 'datasource') as any[]).map((d) => d.uid).filter((u) => u !== '-- Grafana --');
    expect(referenced.length).toBeGreaterThan(0);
    expect(referenced.filter((u) => !provisioned.has(u))).toEqual([]);
  });

  it('has a panel for each metric and unique panel ids', () => {
    const ids = dashboard.panels.map((p: any) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const read = new Set(dashboardExprs.flatMap(metricNamesIn));
    const panels = ['selfheal_breaker_state', 'selfheal_component_health', 'selfheal_anomaly_score', 'selfheal:anomalies:increase10m', 'selfheal_recovery_on_hold', 'selfheal_config_version'];
    for (const name of [...panels, ...Object.keys(PLANNED)]) {
      expect(read.has(name), name).toBe(true);
    }
  });

  it('the dashboard provider loads from where compose mounts the dashboards', () => {
    const path = readYaml(DASHBOARDS).providers[0].options.path;
    const mounts: string[] = compose.services.grafana.volumes;
    expect(mounts).toContain(`./collector-config/grafana/dashboards:${path}:ro`);
    expect(existsSync(resolve(ROOT, 'collector-config/grafana/dashboards/selfheal.json'))).toBe(true);
  });
});

describe('Collector pipelines', () => {
  it('reference only defined receivers, processors, exporters and extensions, and use all of them', () => {
    const used = { receivers: new Set<string>(), processors: new Set<string>(), exporters: new Set<string>() };
    for (const [name, p] of Object.entries<any>(collector.service.pipelines)) {
      for (const kind of ['receivers', 'processors', 'exporters'] as const) {
        for (const c of p[kind] ?? []) {
          expect(Object.keys(collector[kind]), `${name}.${kind}`).toContain(c);
          used[kind].add(c);
        }
      }
      // memory_limiter first (refuses before anything is buffered), batch last.
      expect(p.processors[0], name).toBe('memory_limiter');
      expect(p.processors.at(-1), name).toBe('batch');
    }
    for (const kind of ['receivers', 'processors', 'exporters'] as const) expect([...used[kind]].sort()).toEqual(Object.keys(collector[kind]).sort());
    for (const e of collector.service.extensions) expect(Object.keys(collector.extensions)).toContain(e);
    expect(Object.keys(collector.service.pipelines).sort()).toEqual(['logs', 'metrics', 'traces']);
  });

  it('takes OTLP on 4317 and 4318, sends traces to Jaeger over OTLP and serves metrics where Prometheus scrapes', () => {
    expect(collector.receivers.otlp.protocols.grpc.endpoint).toBe('0.0.0.0:4317');
    expect(collector.receivers.otlp.protocols.http.endpoint).toBe('0.0.0.0:4318');
    expect(collector.service.pipelines.traces.exporters).toEqual(['otlp/jaeger']);
    expect(collector.exporters['otlp/jaeger']).toMatchObject({ endpoint: 'jaeger:4317', tls: { insecure: true } });
    expect(collector.exporters.prometheus.namespace).toBeUndefined(); // a prefix would rename every metric
    const port = collector.exporters.prometheus.endpoint.split(':').at(-1);
    const job = prometheus.scrape_configs.find((s: any) => s.job_name === 'otel-collector');
    expect(job.static_configs[0].targets).toEqual([`otel-collector:${port}`]);
    expect(job.honor_labels).toBe(true);
  });
});

describe('docker-compose.yml', () => {
  const services = compose.services as Record<string, any>;

  it('pins every image to a version', () => {
    for (const [name, s] of Object.entries(services)) {
      // major.minor at least: `latest` and a bare major (node:20) float.
      expect(s.image, name).toMatch(/^[a-z0-9./_-]+:v?\d+\.\d+[\w.-]*$/);
    }
  });

  it('mounts files that exist, the configuration read-only', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const v of (s.volumes ?? []) as string[]) {
        const [host, , mode] = v.split(':');
        expect(existsSync(resolve(ROOT, host!)), `${name}: ${host}`).toBe(true);
        expect(mode, `${name}: ${v}`).toBe('ro');
      }
    }
    const command: string[] = services.example.command;
    expect(existsSync(resolve(ROOT, command.at(-1)!))).toBe(true);
  });

  it('uses the service names the configurations point at', () => {
    const names = Object.keys(services).sort();
    expect(names).toEqual(['example', 'grafana', 'jaeger', 'otel-collector', 'prometheus']);
    const hostOf = (url: string) => new URL(url.includes('://') ? url : `x://${url}`).hostname;
    const pointedAt = [
      collector.exporters['otlp/jaeger'].endpoint,
      ...prometheus.scrape_configs.flatMap((s: any) => s.static_configs.flatMap((c: any) => c.targets)),
      ...readYaml(DATASOURCES).datasources.map((d: any) => d.url),
      services.example.environment.OTEL_EXPORTER_OTLP_ENDPOINT,
    ];
    for (const target of pointedAt) expect(names, target).toContain(hostOf(target));
    expect(services.example.environment.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://otel-collector:4318');
    // Prometheus sees the rules where prometheus.yml looks for them.
    expect(prometheus.rule_files).toEqual(['rules/*.rules.yml']);
    expect(services.prometheus.volumes).toContain('./collector-config/prometheus/rules:/etc/prometheus/rules:ro');
    expect(readdirSync(resolve(ROOT, 'collector-config/prometheus/rules')).filter((f) => f.endsWith('.rules.yml'))).toEqual(['selfheal.rules.yml']);
  });
});
