import { diag } from '@opentelemetry/api';
import { loadOptional } from './load.js';
import type { SelfHealingOptions } from './options.js';
import { HealthSpanProcessor, RecordingSampler, type SamplerLike } from './health/index.js';
import { createSdkMetricsBridge } from './metrics/index.js';
import { composeSdkConfig, samplerFromEnv, tracingConfigured, type SdkConfigLike } from './sdkConfig.js';
import { SelfHealing } from './SelfHealing.js';
import { RedactingSpanProcessor, officialInstrumentationConfig } from './telemetry/index.js';

type Ctor = new (config?: Record<string, unknown>) => { instrumentationName: string };

/** The official instrumentations added when absent: [package, export, warn when not installed]. */
const OFFICIAL = [
  ['@opentelemetry/instrumentation-http', 'HttpInstrumentation', true],
  ['@opentelemetry/instrumentation-undici', 'UndiciInstrumentation', true],
  // Database clients: added only when installed (most services use one of them, or none).
  ['@opentelemetry/instrumentation-pg', 'PgInstrumentation', false],
  ['@opentelemetry/instrumentation-mysql2', 'MySQL2Instrumentation', false],
  ['@opentelemetry/instrumentation-ioredis', 'IORedisInstrumentation', false],
] as const;

/**
 * Ties the plugin's lifetime to the SDK's: NodeSDK's `shutdown()` calls `shutdown()` on every
 * span processor, and so on the plugin. It does no per-span work (health from spans arrives with
 * the health monitor).
 */
class SelfHealingLifecycle {
  constructor(private readonly plugin: SelfHealing) {}
  onStart(): void {}
  onEnd(): void {}
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return this.plugin.shutdown();
  }
}

/**
 * Adds self-healing to a NodeSDK configuration: `new NodeSDK(withSelfHealing({ ...yours }))`.
 * Returns a new configuration with the plugin's parts appended to yours (and, unless `redact:
 * false`, a processor before yours that takes secrets out of spans); your exporters, processors,
 * readers and instrumentations keep working as before. Clients are guarded from
 * this call on (not from `sdk.start()`); the running plugin is `getSelfHealing()`.
 */
export function withSelfHealing<C extends SdkConfigLike>(sdkConfig: C = {} as C, options: SelfHealingOptions = {}): C {
  // OTEL_SDK_DISABLED makes NodeSDK do nothing; patching clients would then be the only effect.
  if (options.enabled === false || process.env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return sdkConfig;
  const plugin = new SelfHealing(options);
  const instrumentations: unknown[] = [];
  if (options.officialInstrumentations !== false) {
    const present = new Set(names(sdkConfig.instrumentations ?? []));
    for (const [pkg, exportName, warn] of OFFICIAL) {
      if (present.has(pkg)) continue;
      const mod = loadOptional<Record<string, Ctor>>(pkg);
      if (mod?.[exportName]) instrumentations.push(new mod[exportName](options.redact === false ? undefined : officialInstrumentationConfig(pkg)));
      else if (warn) diag.warn(`otel-self-heal: ${pkg} is not installed, so guarded calls get no span of their own (npm install ${pkg}, or set officialInstrumentations: false)`);
    }
  }
  instrumentations.push(...plugin.instrumentations);
  try {
    const h = options.health ?? {};
    const healthFromSpans = h.enabled !== false && h.fromSpans !== false;
    let spanProcessors: unknown[] = [];
    if (healthFromSpans) spanProcessors = [new HealthSpanProcessor(plugin.health, () => plugin.shutdown(), plugin.directDbSystems)];
    // With tracing off and no health from spans, a processor of ours would make NodeSDK record
    // every span for nothing: the plugin is then shut down by its own shutdown().
    else if (tracingConfigured(sdkConfig)) spanProcessors = [new SelfHealingLifecycle(plugin)];
    const m = options.metrics ?? {};
    const metricReaders: unknown[] = [];
    if (m.enabled !== false && m.fromSdk !== false) {
      plugin.sdkMetrics = createSdkMetricsBridge(plugin.metrics, m.sdkIntervalMs === undefined ? {} : { intervalMs: m.sdkIntervalMs });
      if (plugin.sdkMetrics) metricReaders.push(plugin.sdkMetrics);
    }
    // First of all processors, so no exporter sees a span before its secrets are out.
    const leadingSpanProcessors =
      options.redact !== false && tracingConfigured(sdkConfig) ? [new RedactingSpanProcessor({ keepQuery: options.http?.captureQueryString ?? false })] : [];
    const composed = composeSdkConfig(sdkConfig, { leadingSpanProcessors, spanProcessors, metricReaders, instrumentations });
    if (healthFromSpans && h.recordUnsampled !== false) {
      (composed as SdkConfigLike).sampler = new RecordingSampler((sdkConfig.sampler as SamplerLike | undefined) ?? (samplerFromEnv() as SamplerLike));
    }
    return composed;
  } catch (err) {
    void plugin.shutdown(); // nothing stays patched when the config cannot be built
    throw err;
  }
}

/** Instrumentation names in NodeSDK's `instrumentations` (which may nest arrays). */
function names(list: unknown[]): string[] {
  return list.flatMap((i) =>
    Array.isArray(i) ? names(i) : typeof (i as { instrumentationName?: unknown })?.instrumentationName === 'string' ? [(i as { instrumentationName: string }).instrumentationName] : [],
  );
}
