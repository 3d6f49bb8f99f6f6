import { z } from 'zod';
import { parseOptions } from '../../config/index.js';

export const sdkMetricsBridgeOptionsSchema = z
  .object({
    intervalMs: z
      .number({ error: 'must be a whole number of milliseconds (0 turns the timer off)' })
      .int({ error: 'must be a whole number of milliseconds (0 turns the timer off)' })
      .min(0, { error: 'must be 0 (no timer) or at least 100 milliseconds' })
      .max(3_600_000, { error: 'must be at most 3600000 milliseconds' })
      .refine((ms) => ms === 0 || ms >= 100, { error: 'must be 0 (no timer) or at least 100 milliseconds' }),
    cardinalityLimit: z
      .number({ error: 'must be a whole number of attribute sets per instrument (e.g. 200)' })
      .int({ error: 'must be a whole number of attribute sets per instrument (e.g. 200)' })
      .min(1, { error: 'must be at least 1 (e.g. 200)' })
      .max(100_000, { error: 'must be at most 100000' }),
    timeoutMs: z
      .number({ error: 'must be a whole number of milliseconds (e.g. 5000)' })
      .int({ error: 'must be a whole number of milliseconds (e.g. 5000)' })
      .min(1, { error: 'must be at least 1 millisecond' })
      .max(600_000, { error: 'must be at most 600000 milliseconds' }),
    include: z.custom<(instrumentName: string, scopeName: string) => boolean>((v) => typeof v === 'function', {
      error: 'must be a function (instrumentName, scopeName) => boolean',
    }),
  })
  .strict();

/** Options of {@link createSdkMetricsBridge}; every field is optional. */
export interface SdkMetricsBridgeOptions {
  /** How often the bridge collects from the SDK, ms; 0 = only when `poll()` is called. Default 5000. */
  intervalMs?: number;
  /** Attribute sets kept per instrument by the bridge's own SDK storage (others go to the SDK's overflow set). Default 200. */
  cardinalityLimit?: number;
  /** Time allowed for one collection (observable callbacks included), ms. Default 5000. */
  timeoutMs?: number;
  /** Which instruments to feed into the collector. Default: all. */
  include?: (instrumentName: string, scopeName: string) => boolean;
}

export type ResolvedSdkMetricsBridgeOptions = Readonly<Required<Omit<SdkMetricsBridgeOptions, 'include'>>> & {
  readonly include: SdkMetricsBridgeOptions['include'];
};

export const DEFAULT_SDK_METRICS_BRIDGE_OPTIONS: ResolvedSdkMetricsBridgeOptions = Object.freeze({
  intervalMs: 5_000,
  cardinalityLimit: 200,
  timeoutMs: 5_000,
  include: undefined,
});

const partialSchema = sdkMetricsBridgeOptionsSchema.partial();

/** Throws a ConfigValidationError naming the field, e.g. `metricsBridge.intervalMs must be ...`. */
export function resolveSdkMetricsBridgeOptions(options?: unknown, prefix = 'metricsBridge'): ResolvedSdkMetricsBridgeOptions {
  const parsed = parseOptions(partialSchema, options ?? {}, prefix);
  const merged: Record<string, unknown> = { ...DEFAULT_SDK_METRICS_BRIDGE_OPTIONS };
  for (const [k, v] of Object.entries(parsed)) if (v !== undefined) merged[k] = v;
  return Object.freeze(merged) as ResolvedSdkMetricsBridgeOptions;
}
