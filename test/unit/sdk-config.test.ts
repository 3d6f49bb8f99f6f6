import { afterEach, describe, expect, it, vi } from 'vitest';
import { DB_INSTRUMENTATIONS } from '../../instrumentations/index.js';
import { ConfigValidationError } from '../../src/config/index.js';
import { optionsFromEnv } from '../../src/env.js';
import { validateOptions } from '../../src/options.js';
import { composeSdkConfig, tracingConfigured, type SdkConfigLike } from '../../src/sdkConfig.js';
import { getSelfHealing } from '../../src/SelfHealing.js';
import { withSelfHealing } from '../../src/withSelfHealing.js';

const ours = { name: 'ours' };

describe('composeSdkConfig', () => {
  afterEach(() => vi.unstubAllEnvs());

  it("appends to the user's spanProcessors and leaves the rest of the config alone", () => {
    const theirs = { name: 'theirs' };
    const config = { serviceName: 'svc', spanProcessors: [theirs] };
    const out: SdkConfigLike = composeSdkConfig(config, { spanProcessors: [ours] });
    expect(out.spanProcessors).toEqual([theirs, ours]);
    expect(out.serviceName).toBe('svc');
    expect(config.spanProcessors).toEqual([theirs]); // the input is not mutated
  });

  it('turns the deprecated spanProcessor into the first entry', () => {
    const theirs = { name: 'theirs' };
    const out: SdkConfigLike = composeSdkConfig({ spanProcessor: theirs }, { spanProcessors: [ours] });
    expect(out.spanProcessors).toEqual([theirs, ours]);
    expect('spanProcessor' in out).toBe(false);
  });

  it('wraps a traceExporter in a BatchSpanProcessor, since NodeSDK ignores it once spanProcessors is set', () => {
    const exporter = { export: () => undefined, shutdown: async () => undefined };
    const out: SdkConfigLike = composeSdkConfig({ traceExporter: exporter }, { spanProcessors: [ours] });
    expect('traceExporter' in out).toBe(false);
    expect(out.spanProcessors).toHaveLength(2);
    expect((out.spanProcessors![0] as { constructor: { name: string } }).constructor.name).toBe('BatchSpanProcessor');
    expect((out.spanProcessors![0] as { _exporter: unknown })._exporter).toBe(exporter);
    expect(out.spanProcessors![1]).toBe(ours);
  });

  it('rebuilds the OTEL_TRACES_EXPORTER default (otlp) when the user gave no processor or exporter', () => {
    vi.stubEnv('OTEL_TRACES_EXPORTER', '');
    vi.stubEnv('OTEL_EXPORTER_OTLP_PROTOCOL', 'http/json');
    const out: SdkConfigLike = composeSdkConfig({} as SdkConfigLike, { spanProcessors: [ours] });
    const exporter = (out.spanProcessors![0] as { _exporter: { constructor: { name: string } } })._exporter;
    expect(exporter.constructor.name).toBe('OTLPTraceExporter');
    expect(out.spanProcessors![1]).toBe(ours);
  });

  it('builds console and nothing for none, as NodeSDK does', () => {
    vi.stubEnv('OTEL_TRACES_EXPORTER', 'console');
    const out: SdkConfigLike = composeSdkConfig({} as SdkConfigLike, { spanProcessors: [ours] });
    expect((out.spanProcessors![0] as { constructor: { name: string } }).constructor.name).toBe('SimpleSpanProcessor');
    vi.stubEnv('OTEL_TRACES_EXPORTER', 'none');
    expect(composeSdkConfig({} as SdkConfigLike, { spanProcessors: [ours] }).spanProcessors).toEqual([ours]);
  });

  it('keeps OTEL_METRICS_EXPORTER readers when the plugin adds a reader', () => {
    vi.stubEnv('OTEL_METRICS_EXPORTER', 'otlp');
    const out: SdkConfigLike = composeSdkConfig({} as SdkConfigLike, { metricReaders: [ours] });
    expect(out.metricReaders).toHaveLength(2);
    expect((out.metricReaders![0] as { constructor: { name: string } }).constructor.name).toBe('PeriodicExportingMetricReader');
    vi.stubEnv('OTEL_METRICS_EXPORTER', 'none');
    expect(composeSdkConfig({} as SdkConfigLike, { metricReaders: [ours] }).metricReaders).toEqual([ours]);
    const theirs = { name: 'theirs' };
    expect(composeSdkConfig({ metricReaders: [theirs] }, { metricReaders: [ours] }).metricReaders).toEqual([theirs, ours]);
  });

  it('caps the metric export timeout at a shorter OTEL_METRIC_EXPORT_INTERVAL, as NodeSDK does', async () => {
    vi.stubEnv('OTEL_METRICS_EXPORTER', 'otlp');
    vi.stubEnv('OTEL_METRIC_EXPORT_INTERVAL', '5000'); // alone: the default timeout (30 s) is longer
    const out: SdkConfigLike = composeSdkConfig({} as SdkConfigLike, { metricReaders: [ours] });
    const reader = out.metricReaders![0] as { _exportInterval: number; _exportTimeout: number; shutdown(): Promise<void> };
    expect(reader._exportInterval).toBe(5000);
    expect(reader._exportTimeout).toBe(5000);
    await reader.shutdown();
  });

  it('follows NodeSDK on "none": first means no traces, anywhere means no metrics', () => {
    vi.stubEnv('OTEL_TRACES_EXPORTER', 'none,console');
    expect(composeSdkConfig({} as SdkConfigLike, { spanProcessors: [ours] }).spanProcessors).toEqual([ours]);
    vi.stubEnv('OTEL_METRICS_EXPORTER', 'console,none');
    expect(composeSdkConfig({} as SdkConfigLike, { metricReaders: [ours] }).metricReaders).toEqual([ours]);
  });

  it('knows when tracing is off, so without health from spans the plugin does not turn a recording tracer on', async () => {
    vi.stubEnv('OTEL_TRACES_EXPORTER', 'none');
    expect(tracingConfigured({})).toBe(false);
    expect(tracingConfigured({ spanProcessors: [] })).toBe(false);
    expect(tracingConfigured({ traceExporter: {} })).toBe(true);
    const config = withSelfHealing({} as SdkConfigLike, { officialInstrumentations: false, health: { enabled: false } });
    expect('spanProcessors' in config).toBe(false);
    expect('sampler' in config).toBe(false);
    expect((config.instrumentations ?? []).length).toBe(2 + DB_INSTRUMENTATIONS.length); // http, fetch, databases
    await getSelfHealing()?.shutdown();
    // Health from spans needs the spans, exported or not: its processor is the only one.
    const withHealth = withSelfHealing({} as SdkConfigLike, { officialInstrumentations: false });
    expect((withHealth.spanProcessors ?? []).map((p) => (p as object).constructor.name)).toEqual(['HealthSpanProcessor']);
    expect((withHealth.sampler as object).constructor.name).toBe('RecordingSampler');
    await getSelfHealing()?.shutdown();
    vi.stubEnv('OTEL_TRACES_EXPORTER', 'otlp');
    expect(tracingConfigured({})).toBe(true);
  });

  it('touches neither processors nor readers when the plugin adds none', () => {
    const config = { traceExporter: { x: 1 } };
    const out: SdkConfigLike = composeSdkConfig(config, { instrumentations: [ours] });
    expect(out.traceExporter).toBe(config.traceExporter);
    expect('spanProcessors' in out).toBe(false);
    expect('metricReaders' in out).toBe(false);
    expect(out.instrumentations).toEqual([ours]);
  });
});

describe('plugin options', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('names an unknown option and where to look', () => {
    expect(() => validateOptions({ breakr: {} })).toThrow(/breakr is not a known option/);
  });

  it('names a nested bad field with the value given', () => {
    expect(() => validateOptions({ http: { failureStatusCodes: [700] } })).toThrow(ConfigValidationError);
    expect(() => validateOptions({ http: { failureStatusCodes: [700] } })).toThrow(/http\.failureStatusCodes/);
    expect(() => validateOptions({ maxBreakers: 0 })).toThrow(/maxBreakers must be a whole number of at least 1, got 0/);
  });

  it('reads SELFHEAL_* variables', () => {
    const opts = optionsFromEnv({
      SELFHEAL_BREAKER_FAILURE_THRESHOLD: '0.25',
      SELFHEAL_BREAKER_MINIMUM_REQUESTS: '3',
      SELFHEAL_HTTP_IGNORE: 'http://a:1, b.internal',
      SELFHEAL_HTTP_FETCH: 'false',
      SELFHEAL_OVERRIDES: '{"http://x:1":{"failureThreshold":0.1}}',
    });
    expect(opts).toEqual({
      breaker: { failureThreshold: 0.25, minimumRequests: 3 },
      http: { ignore: ['http://a:1', 'b.internal'], fetch: false },
      overrides: { 'http://x:1': { failureThreshold: 0.1 } },
    });
  });

  it('reads the database, redaction and status page variables; the status page is on only with a port', () => {
    const opts = optionsFromEnv({
      SELFHEAL_DB_IGNORE: 'postgresql://10.0.0.1:5432/audit, replica.internal',
      SELFHEAL_DB_MYSQL2: 'off',
      SELFHEAL_REDACT: 'true',
      SELFHEAL_HTTP_CAPTURE_QUERY_STRING: '1',
      SELFHEAL_STATUS_PORT: '0',
      SELFHEAL_STATUS_TOKEN: 'a-token-of-sixteen-chars',
    });
    expect(opts).toEqual({
      http: { captureQueryString: true },
      db: { ignore: ['postgresql://10.0.0.1:5432/audit', 'replica.internal'], mysql2: false },
      redact: true,
      statusServer: { port: 0, token: 'a-token-of-sixteen-chars' },
    });
    expect(validateOptions(opts)).toBeTruthy();
    expect(optionsFromEnv({ SELFHEAL_STATUS_TOKEN: 'ignored-without-a-port' }).statusServer).toBeUndefined();
    expect(() => optionsFromEnv({ SELFHEAL_STATUS_PORT: 'eighty' })).toThrow('SELFHEAL_STATUS_PORT must be a number, got "eighty"');
  });

  it('names a bad SELFHEAL_* variable', () => {
    expect(() => optionsFromEnv({ SELFHEAL_BREAKER_FAILURE_THRESHOLD: 'abc' })).toThrow(
      'SELFHEAL_BREAKER_FAILURE_THRESHOLD must be a number, got "abc"',
    );
    expect(() => optionsFromEnv({ SELFHEAL_OVERRIDES: '{' })).toThrow(/SELFHEAL_OVERRIDES must be JSON/);
    expect(() => optionsFromEnv({ SELFHEAL_ENABLED: 'maybe' })).toThrow('SELFHEAL_ENABLED must be true or false, got "maybe"');
    expect(() => optionsFromEnv({ SELFHEAL_MAX_BREAKERS: 'abc' })).toThrow('SELFHEAL_MAX_BREAKERS must be a number, got "abc"');
  });
});
