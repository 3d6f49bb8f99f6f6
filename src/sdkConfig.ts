import { diag } from '@opentelemetry/api';
import { loadOptional } from './load.js';

/** The part of NodeSDK's configuration that the plugin reads or extends (same in sdk-node 0.2xx and 0.3xx). */
export interface SdkConfigLike {
  spanProcessors?: unknown[];
  /** @deprecated in sdk-node 0.2xx, gone in 0.3xx; still honoured. */
  spanProcessor?: unknown;
  traceExporter?: unknown;
  metricReaders?: unknown[];
  /** @deprecated in sdk-node 0.2xx, gone in 0.3xx; still honoured. */
  metricReader?: unknown;
  instrumentations?: unknown[];
  [key: string]: unknown;
}

export interface PluginParts {
  /** Processors that must see each span before yours do (they rewrite it before it is exported). */
  leadingSpanProcessors?: unknown[];
  spanProcessors?: unknown[];
  metricReaders?: unknown[];
  instrumentations?: unknown[];
}

/**
 * Returns a copy of `config` with `parts` appended, keeping everything the user had working.
 * NodeSDK ignores `traceExporter` and the `OTEL_TRACES_EXPORTER` default as soon as
 * `spanProcessors` is set, and `OTEL_METRICS_EXPORTER` as soon as `metricReaders` is set
 * (research/otel.md §1.3), so those are turned into explicit processors and readers first.
 */
export function composeSdkConfig<C extends SdkConfigLike>(config: C, parts: PluginParts): C {
  const out: SdkConfigLike = { ...config };
  const leading = parts.leadingSpanProcessors ?? [];
  if (parts.spanProcessors?.length || leading.length) {
    let base: unknown[];
    if (config.spanProcessors) base = [...config.spanProcessors];
    else if (config.spanProcessor) base = [config.spanProcessor];
    else if (config.traceExporter) base = [batchSpanProcessor(config.traceExporter)];
    else base = spanProcessorsFromEnv();
    delete out.spanProcessor;
    delete out.traceExporter;
    out.spanProcessors = [...leading, ...base, ...(parts.spanProcessors ?? [])];
  }
  if (parts.metricReaders?.length) {
    let base: unknown[];
    if (config.metricReaders) base = [...config.metricReaders];
    else if (config.metricReader) base = [config.metricReader];
    else base = metricReadersFromEnv();
    delete out.metricReader;
    out.metricReaders = [...base, ...parts.metricReaders];
  }
  if (parts.instrumentations?.length) out.instrumentations = [...(config.instrumentations ?? []), ...parts.instrumentations];
  return out as C;
}

function envList(name: string): string[] {
  return [
    ...new Set(
      (process.env[name] ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s && s !== 'null'),
    ),
  ];
}

/**
 * NodeSDK 0.2xx's rules: for traces, `none` first means nothing, `none` among others means otlp;
 * for metrics, any `none` means nothing. Empty means otlp.
 */
function exporterNames(signal: 'TRACES' | 'METRICS'): string[] {
  const list = envList(`OTEL_${signal}_EXPORTER`);
  if (list.length === 0) return ['otlp'];
  if (signal === 'METRICS') return list.includes('none') ? [] : list;
  if (list[0] === 'none') return [];
  return list.includes('none') ? ['otlp'] : list;
}

/** Whether NodeSDK would record spans for this config (some processor or exporter is configured). */
export function tracingConfigured(config: SdkConfigLike): boolean {
  if (config.spanProcessors) return config.spanProcessors.length > 0;
  return Boolean(config.spanProcessor || config.traceExporter) || exporterNames('TRACES').length > 0;
}

function protocol(signal: 'TRACES' | 'METRICS'): string {
  return process.env[`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`] ?? process.env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf';
}

const OTLP_PACKAGE: Record<string, string> = { grpc: 'grpc', 'http/json': 'http', 'http/protobuf': 'proto' };

function require_<T>(name: string): T {
  const mod = loadOptional<T>(name);
  if (!mod) {
    throw new Error(`otel-self-heal: ${name} is needed to keep your OTEL_* exporter settings working; install it (npm install ${name})`);
  }
  return mod;
}

type Ctor = new (...args: unknown[]) => unknown;

function envNumber(name: string): number | undefined {
  const v = process.env[name];
  const n = v === undefined || v.trim() === '' ? NaN : Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

function batchSpanProcessor(exporter: unknown): unknown {
  const trace = loadOptional<{ BatchSpanProcessor: Ctor }>('@opentelemetry/sdk-trace');
  if (trace) {
    return new trace.BatchSpanProcessor({
      exporter,
      maxQueueSize: envNumber('OTEL_BSP_MAX_QUEUE_SIZE'),
      scheduledDelayMillis: envNumber('OTEL_BSP_SCHEDULE_DELAY'),
      exportTimeoutMillis: envNumber('OTEL_BSP_EXPORT_TIMEOUT'),
      maxExportBatchSize: envNumber('OTEL_BSP_MAX_EXPORT_BATCH_SIZE'),
    });
  }
  // SDK 2.0-2.11: sdk-trace-base takes (exporter) and reads OTEL_BSP_* itself.
  const base = require_<{ BatchSpanProcessor: Ctor }>('@opentelemetry/sdk-trace-base');
  return new base.BatchSpanProcessor(exporter);
}

function simpleSpanProcessor(exporter: unknown): unknown {
  const trace = loadOptional<{ SimpleSpanProcessor: Ctor }>('@opentelemetry/sdk-trace');
  if (trace) return new trace.SimpleSpanProcessor({ exporter });
  return new (require_<{ SimpleSpanProcessor: Ctor }>('@opentelemetry/sdk-trace-base').SimpleSpanProcessor)(exporter);
}

type SamplerCtor = new (...args: unknown[]) => unknown;

/** The sampler NodeSDK would have built from `OTEL_TRACES_SAMPLER` / `_ARG` (default parentbased_always_on). */
export function samplerFromEnv(): unknown {
  const mod =
    loadOptional<Record<string, SamplerCtor>>('@opentelemetry/sdk-trace') ?? require_<Record<string, SamplerCtor>>('@opentelemetry/sdk-trace-base');
  const { AlwaysOnSampler, AlwaysOffSampler, TraceIdRatioBasedSampler, ParentBasedSampler } = mod as Record<string, SamplerCtor>;
  const name = (process.env.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on').trim().toLowerCase();
  const arg = Number(process.env.OTEL_TRACES_SAMPLER_ARG);
  const ratio = Number.isFinite(arg) && arg >= 0 && arg <= 1 ? arg : 1;
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler!();
    case 'always_off':
      return new AlwaysOffSampler!();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler!(ratio);
    case 'parentbased_always_off':
      return new ParentBasedSampler!({ root: new AlwaysOffSampler!() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler!({ root: new TraceIdRatioBasedSampler!(ratio) });
    default:
      if (name !== 'parentbased_always_on') diag.warn(`otel-self-heal: OTEL_TRACES_SAMPLER=${name} is not known here; using parentbased_always_on, as NodeSDK does`);
      return new ParentBasedSampler!({ root: new AlwaysOnSampler!() });
  }
}

/** The span processors NodeSDK would have built from `OTEL_TRACES_EXPORTER`. */
export function spanProcessorsFromEnv(): unknown[] {
  const out: unknown[] = [];
  for (const name of exporterNames('TRACES')) {
    if (name === 'otlp') {
      const p = protocol('TRACES');
      const pkg = `@opentelemetry/exporter-trace-otlp-${OTLP_PACKAGE[p] ?? 'proto'}`;
      out.push(batchSpanProcessor(new (require_<{ OTLPTraceExporter: Ctor }>(pkg).OTLPTraceExporter)()));
    } else if (name === 'console') {
      const mod = loadOptional<{ ConsoleSpanExporter: Ctor }>('@opentelemetry/sdk-trace') ?? require_<{ ConsoleSpanExporter: Ctor }>('@opentelemetry/sdk-trace-base');
      out.push(simpleSpanProcessor(new mod.ConsoleSpanExporter()));
    } else if (name === 'zipkin') {
      out.push(batchSpanProcessor(new (require_<{ ZipkinExporter: Ctor }>('@opentelemetry/exporter-zipkin').ZipkinExporter)()));
    } else {
      diag.warn(`otel-self-heal: unrecognized OTEL_TRACES_EXPORTER value ${JSON.stringify(name)}; ignored, as NodeSDK does`);
    }
  }
  return out;
}

/** The metric readers NodeSDK would have built from `OTEL_METRICS_EXPORTER`. */
export function metricReadersFromEnv(): unknown[] {
  const out: unknown[] = [];
  const metrics = () => require_<{ PeriodicExportingMetricReader: Ctor; ConsoleMetricExporter: Ctor }>('@opentelemetry/sdk-metrics');
  const interval = envNumber('OTEL_METRIC_EXPORT_INTERVAL') ?? 60_000;
  const periodic = (exporter: unknown) =>
    new (metrics().PeriodicExportingMetricReader)({
      exporter,
      exportIntervalMillis: interval,
      // As NodeSDK does: a timeout longer than the interval is capped at it (the reader refuses it).
      exportTimeoutMillis: Math.min(envNumber('OTEL_METRIC_EXPORT_TIMEOUT') ?? 30_000, interval),
    });
  for (const name of exporterNames('METRICS')) {
    if (name === 'otlp') {
      const pkg = `@opentelemetry/exporter-metrics-otlp-${OTLP_PACKAGE[protocol('METRICS')] ?? 'proto'}`;
      out.push(periodic(new (require_<{ OTLPMetricExporter: Ctor }>(pkg).OTLPMetricExporter)()));
    } else if (name === 'console') {
      out.push(periodic(new (metrics().ConsoleMetricExporter)()));
    } else if (name === 'prometheus') {
      out.push(new (require_<{ PrometheusExporter: Ctor }>('@opentelemetry/exporter-prometheus').PrometheusExporter)());
    } else {
      diag.warn(`otel-self-heal: unrecognized OTEL_METRICS_EXPORTER value ${JSON.stringify(name)}; ignored, as NodeSDK does`);
    }
  }
  return out;
}
