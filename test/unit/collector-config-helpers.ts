import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { DataPointType, MeterProvider } from '@opentelemetry/sdk-metrics';
import { parse } from 'yaml';
import { SelfHealing } from '../../src/SelfHealing.js';

export const ROOT = resolve(import.meta.dirname, '../..');

/** A YAML file of the repository, parsed; a syntax error fails with the file's name. */
export function readYaml<T = any>(path: string): T {
  return parse(readFileSync(resolve(ROOT, path), 'utf8'), { prettyErrors: true }) as T;
}

/** One metric as the telemetry code emits it. */
export interface EmittedMetric {
  /** OTel instrument name, e.g. `selfheal.breaker.calls`. */
  otelName: string;
  unit: string;
  kind: 'gauge' | 'counter';
  /** Name as the SDK's PrometheusExporter serializes it. */
  sdkName: string;
  /** Label names on its series (attributes, plus the scope labels the exporter adds) and their values. */
  labels: Map<string, Set<string>>;
}

/**
 * The metrics the plugin really emits, read from a real SelfHealing whose instrumentations get a
 * MeterProvider the way NodeSDK hands it over, with every kind of series made to exist (a breaker,
 * a downstream with an anomaly detector, a recovery attempt, a component held for manual
 * intervention, a config version), serialized by
 * the PrometheusExporter's own serializer.
 */
export async function emittedMetrics(): Promise<EmittedMetric[]> {
  const plugin = new SelfHealing({ recovery: { verifyWindowMs: 0, jitter: 0, startJitterMs: 0 } });
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const meterProvider = new MeterProvider({ readers: [exporter] });
  try {
    for (const i of plugin.instrumentations) i.setMeterProvider(meterProvider);
    plugin.breakers.get('http://inventory.test:8080');
    plugin.health.observe('http://inventory.test:8080', 'downstream', false, 5);
    plugin.recovery.register({ name: 'cache', restart: async () => {}, checkHealth: async () => ({ kind: 'healthy' }) });
    await plugin.recovery.requestRecovery('cache', 'error-rate', { kind: 'failed', reason: 'connection lost' });
    // No strategy to try: left to a person at once.
    plugin.recovery.register({ name: 'ledger' });
    const held = await plugin.recovery.requestRecovery('ledger', 'error-rate', { kind: 'failed', reason: 'disk full' });
    if (held.outcome !== 'manual-intervention') throw new Error(`ledger was not held for manual intervention: ${held.outcome}`);
    const { resourceMetrics } = await exporter.collect();
    const text = new PrometheusSerializer().serialize(resourceMetrics);
    const out: EmittedMetric[] = [];
    for (const m of resourceMetrics.scopeMetrics.flatMap((s) => s.metrics)) {
      const { name, unit } = m.descriptor;
      if (!name.startsWith('selfheal.')) continue;
      const kind = m.dataPointType === DataPointType.SUM && m.isMonotonic ? 'counter' : 'gauge';
      const base = name.replace(/[^a-zA-Z0-9_:]/g, '_');
      const sdkName = kind === 'counter' ? `${base}_total` : base;
      if (!new RegExp(`^# TYPE ${sdkName} ${kind}$`, 'm').test(text)) throw new Error(`${name} is not serialized as ${sdkName} (${kind}):\n${text}`);
      const labels = new Map<string, Set<string>>();
      for (const line of text.split('\n').filter((l) => l.startsWith(`${sdkName}{`))) {
        for (const [, label, value] of line.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
          labels.set(label!, (labels.get(label!) ?? new Set()).add(value!));
        }
      }
      out.push({ otelName: name, unit, kind, sdkName, labels });
    }
    return out;
  } finally {
    await plugin.shutdown();
    await meterProvider.shutdown();
  }
}

// The Collector's prometheus exporter (contrib pkg/translator/prometheus normalizeName, with
// add_metric_suffixes on, its default): units a Prometheus suffix, "1" none, {annotations} none.
const UNIT_SUFFIX: Record<string, string> = { s: 'seconds', ms: 'milliseconds', By: 'bytes', '1': '', '%': 'percent' };

/** The name the Collector's prometheus exporter gives `m`: name tokens, unit, `_total` on counters, `_ratio` on unit-1 gauges. */
export function collectorName(m: Pick<EmittedMetric, 'otelName' | 'unit' | 'kind'>): string {
  let tokens = m.otelName.split(/[^a-zA-Z0-9]+/).filter(Boolean);
  const main = m.unit.split('/')[0]!.trim();
  if (main && !/[{}]/.test(main)) {
    const suffix = UNIT_SUFFIX[main] ?? main;
    if (suffix && !tokens.includes(suffix)) tokens.push(suffix);
  }
  if (m.kind === 'counter') tokens = [...tokens.filter((t) => t !== 'total'), 'total'];
  if (m.unit === '1' && m.kind === 'gauge') tokens = [...tokens.filter((t) => t !== 'ratio'), 'ratio'];
  return tokens.join('_');
}

/** A Prometheus relabel step on `__name__` (RE2 anchored, `${1}` / `$1` references). */
export function relabelName(name: string, rule: { source_labels?: string[]; regex?: string; target_label?: string; replacement?: string; action?: string }): string {
  if ((rule.action ?? 'replace') !== 'replace' || rule.source_labels?.join() !== '__name__' || rule.target_label !== '__name__') return name;
  const match = new RegExp(`^(?:${rule.regex ?? '(.*)'})$`).exec(name);
  if (!match) return name;
  return (rule.replacement ?? '$1').replace(/\$\{?(\d+)\}?/g, (_, i: string) => match[Number(i)] ?? '');
}

const LABEL_LISTS = /\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g;

/** PromQL with string literals, label matchers and grouping lists taken out, so that what is left names metrics and functions. */
function skeleton(expr: string): string {
  return expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\{[^}]*\}/g, '').replace(LABEL_LISTS, '');
}

/** The selfheal metric and recording-rule names an expression reads. */
export function metricNamesIn(expr: string): string[] {
  return [...new Set(skeleton(expr).match(/\bselfheal[_:][a-zA-Z0-9_:]*/g) ?? [])];
}

/** Label names an expression groups, joins or matches on. */
export function labelNamesIn(expr: string): string[] {
  const out = new Set<string>();
  const noStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  for (const [, list] of noStrings.matchAll(LABEL_LISTS)) for (const l of list!.split(',')) if (l.trim()) out.add(l.trim());
  for (const [, body] of noStrings.matchAll(/\{([^}]*)\}/g)) for (const [, l] of body!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)) out.add(l!);
  return [...out];
}

/** The `label="value"` and `label!="value"` matchers of an expression. */
export function equalityMatchersIn(expr: string): Array<{ label: string; value: string }> {
  const out: Array<{ label: string; value: string }> = [];
  for (const [, body] of expr.matchAll(/\{([^}]*)\}/g)) {
    for (const [, label, value] of body!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*!?=\s*"([^"]*)"/g)) out.push({ label: label!, value: value! });
  }
  return out;
}

/** Label names a template reads: `{{ $labels.x }}` (alerts) or `{{x}}` (legends). */
export function templateLabels(text: string): string[] {
  const out = new Set<string>();
  for (const [, l] of text.matchAll(/\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)/g)) out.add(l!);
  for (const [, l] of text.matchAll(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g)) out.add(l!);
  return [...out];
}

/** Every value under key `key` anywhere in `value` (objects and arrays, depth first). */
export function collect(value: unknown, key: string, out: unknown[] = []): unknown[] {
  if (Array.isArray(value)) for (const v of value) collect(v, key, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === key) out.push(v);
      collect(v, key, out);
    }
  }
  return out;
}

/** Whitespace-insensitive PromQL, to compare two copies of one expression. */
export const squash = (expr: string): string => expr.replace(/\s+/g, ' ').replace(/\s*([(),])\s*/g, '$1').trim();
