import { z } from 'zod';
import { ConfigValidationError, parseOptions } from '../../config/index.js';

const wholeNumber = (hint: string, min: number, max: number) =>
  z
    .number({ error: `must be a whole number (${hint})` })
    .int({ error: `must be a whole number (${hint})` })
    .min(min, { error: `must be at least ${min} (${hint})` })
    .max(max, { error: `must be at most ${max} (${hint})` });

/**
 * Options of one anomaly detector (one detector per series). Every field is optional; the
 * defaults ({@link DEFAULT_ANOMALY_DETECTOR_OPTIONS}) are one configuration for every series, the
 * one measured on NAB (`npm run bench:nab`).
 */
export const anomalyDetectorOptionsSchema = z
  .object({
    /** Score (0..1) at or above which `update` reports `anomalous`. Default 0.5 (tail probability ≈ 1e-5). */
    threshold: z
      .number({ error: 'must be a number between 0 and 1 (0.5 ≈ a one-in-100,000 value)' })
      .min(0, { error: 'must be between 0 and 1 (0.5 ≈ a one-in-100,000 value)' })
      .max(1, { error: 'must be between 0 and 1 (0.5 ≈ a one-in-100,000 value)' }),
    /** Values learnt before any score other than 0. Default 150. */
    warmup: wholeNumber('values before the first score, e.g. 150', 1, 1_000_000),
    /** Values per compared stretch (the KNN vector length), at every scale. Default 10. */
    window: wholeNumber('values per compared stretch, e.g. 10', 1, 256),
    /** Points of the past each scale compares the newest stretch with. Default 1000. */
    history: wholeNumber('points of the past kept per scale, e.g. 1000', 2, 20_000),
    /** Nearest past stretches averaged into the nonconformity. Default 3. */
    neighbours: wholeNumber('nearest stretches averaged, e.g. 3', 1, 64),
    /**
     * Time scales, as numbers of values averaged into one point, strictly increasing.
     * Default [1, 4, 16]: the raw series, and means of 4 and of 16 values.
     */
    scales: z
      .array(wholeNumber('values averaged per point, e.g. 4', 1, 1024), {
        error: 'must be a list of whole numbers, e.g. [1, 4, 16]',
      })
      .min(1, { error: 'must list at least one scale, e.g. [1]' })
      .max(4, { error: 'must list at most 4 scales' }),
    /** Half-width, in minutes, of the time-of-day context; 0 turns the contextual comparison off. Default 30. */
    contextMinutes: z
      .number({ error: 'must be a number of minutes (0 turns it off)' })
      .min(0, { error: 'must be 0 or more minutes (0 turns it off)' })
      .max(720, { error: 'must be at most 720 minutes (half a day)' }),
    /** Nonconformity values each tail probability is fitted on. Default 1000. */
    calibration: wholeNumber('values per tail fit, e.g. 1000', 100, 100_000),
    /** Share of the calibration values treated as the tail (the peaks-over-threshold level). Default 0.05. */
    tailFraction: z
      .number({ error: 'must be a number between 0.001 and 0.5 (e.g. 0.05)' })
      .min(0.001, { error: 'must be between 0.001 and 0.5 (e.g. 0.05)' })
      .max(0.5, { error: 'must be between 0.001 and 0.5 (e.g. 0.05)' }),
    /** Values after an alert during which the score is held at 0 (one alert per incident); 0 turns it off. Default 300. */
    cooldown: wholeNumber('values to stay quiet after an alert, 0 turns it off', 0, 10_000_000),
    /** Calm values in a row (score under half the threshold) that end a cooldown early; 0 = never. Default 100. */
    rearm: wholeNumber('calm values that end a cooldown early, 0 = never', 0, 10_000_000),
    /** Share of the range seen so far beyond which a new extreme scores 1; 0 turns the rule off. Default 0.05. */
    rangeTolerance: z
      .number({ error: 'must be a number of 0 or more (0 turns the rule off)' })
      .min(0, { error: 'must be 0 or more (0 turns the rule off)' })
      .max(10, { error: 'must be at most 10' }),
  })
  .strict();

export type AnomalyDetectorOptions = Partial<z.input<typeof anomalyDetectorOptionsSchema>>;
export type ResolvedAnomalyDetectorOptions = Readonly<Required<Omit<AnomalyDetectorOptions, 'scales'>>> & {
  readonly scales: readonly number[];
};

export const DEFAULT_ANOMALY_DETECTOR_OPTIONS: ResolvedAnomalyDetectorOptions = Object.freeze({
  threshold: 0.5,
  warmup: 150,
  window: 10,
  history: 1000,
  neighbours: 3,
  scales: Object.freeze([1, 4, 16]),
  contextMinutes: 30,
  calibration: 1000,
  tailFraction: 0.05,
  cooldown: 300,
  rearm: 100,
  rangeTolerance: 0.05,
});

const partialSchema = anomalyDetectorOptionsSchema.partial();

/**
 * Validates `options` over the defaults and returns the frozen, complete result; throws a
 * ConfigValidationError naming each bad field, e.g. `anomaly.window must be a whole number ...`.
 */
export function resolveAnomalyDetectorOptions(options?: unknown, prefix = 'anomaly'): ResolvedAnomalyDetectorOptions {
  const parsed = parseOptions(partialSchema, options ?? {}, prefix);
  const merged: Record<string, unknown> = { ...DEFAULT_ANOMALY_DETECTOR_OPTIONS };
  for (const [k, v] of Object.entries(parsed)) if (v !== undefined) merged[k] = v;
  const scales = merged.scales as readonly number[];
  for (let i = 1; i < scales.length; i++) {
    if (scales[i]! <= scales[i - 1]!) {
      throw new ConfigValidationError([
        {
          path: `${prefix}.scales`,
          message: `${prefix}.scales must be strictly increasing, got ${JSON.stringify(scales)}`,
        },
      ]);
    }
  }
  if ((merged.history as number) < 2 * (merged.window as number) + (merged.neighbours as number)) {
    throw new ConfigValidationError([
      {
        path: `${prefix}.history`,
        message: `${prefix}.history (${merged.history}) must be at least 2 × window + neighbours (${2 * (merged.window as number) + (merged.neighbours as number)}), or no past stretch can be compared`,
      },
    ]);
  }
  merged.scales = Object.freeze([...scales]);
  return Object.freeze(merged) as unknown as ResolvedAnomalyDetectorOptions;
}
