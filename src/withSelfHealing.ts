import { diag } from '@opentelemetry/api';
import { loadOptional } from './load.js';
import type { SelfHealingOptions } from './options.js';
import { composeSdkConfig, type SdkConfigLike } from './sdkConfig.js';
import { SelfHealing } from './SelfHealing.js';

type Ctor = new (config?: Record<string, unknown>) => { instrumentationName: string };

const OFFICIAL = [
  ['@opentelemetry/instrumentation-http', 'HttpInstrumentation'],
  ['@opentelemetry/instrumentation-undici', 'UndiciInstrumentation'],
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
 * Returns a new configuration with the plugin's parts appended to yours; your exporters,
 * processors, readers and instrumentations keep working as before. The running plugin is then
 * available from `getSelfHealing()`.
 */
export function withSelfHealing<C extends SdkConfigLike>(sdkConfig: C = {} as C, options: SelfHealingOptions = {}): C {
  if (options.enabled === false) return sdkConfig;
  const plugin = new SelfHealing(options);
  const instrumentations: unknown[] = [];
  if (options.officialInstrumentations !== false) {
    const present = new Set(names(sdkConfig.instrumentations ?? []));
    for (const [pkg, exportName] of OFFICIAL) {
      if (present.has(pkg)) continue;
      const mod = loadOptional<Record<string, Ctor>>(pkg);
      if (mod?.[exportName]) instrumentations.push(new mod[exportName]());
      else diag.warn(`otel-self-heal: ${pkg} is not installed, so guarded calls get no span of their own (npm install ${pkg}, or set officialInstrumentations: false)`);
    }
  }
  instrumentations.push(...plugin.instrumentations);
  return composeSdkConfig(sdkConfig, { spanProcessors: [new SelfHealingLifecycle(plugin)], instrumentations });
}

/** Instrumentation names in NodeSDK's `instrumentations` (which may nest arrays). */
function names(list: unknown[]): string[] {
  return list.flatMap((i) =>
    Array.isArray(i) ? names(i) : typeof (i as { instrumentationName?: unknown })?.instrumentationName === 'string' ? [(i as { instrumentationName: string }).instrumentationName] : [],
  );
}
