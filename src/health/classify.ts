import { z } from 'zod';
import { ConfigValidationError, parseOptions } from '../config/index.js';
import { HEALTHY, LEVEL_VALUE, type HealthLevel, type HealthMetrics, type HealthStatus, type HealthThresholds, type LevelThresholds } from './types.js';

export const DEFAULT_THRESHOLDS: HealthThresholds = Object.freeze({
  errorRate: Object.freeze({ degraded: 0.05, critical: 0.25, failed: 0.5 }),
  responseTime: Object.freeze({ degraded: 1_000, critical: 5_000 }),
  cpuUsage: Object.freeze({ degraded: 0.8, critical: 0.95 }),
  memoryUsage: Object.freeze({ degraded: 0.8, critical: 0.95 }),
});

const level = z
  .object({
    degraded: z.number().min(0, { error: 'must be 0 or more' }).optional(),
    critical: z.number().min(0, { error: 'must be 0 or more' }).optional(),
    failed: z.number().min(0, { error: 'must be 0 or more' }).optional(),
  })
  .strict()
  .refine((l) => (l.degraded ?? 0) <= (l.critical ?? Infinity) && (l.critical ?? 0) <= (l.failed ?? Infinity), {
    error: 'must rise from degraded to critical to failed',
  });

const thresholdsSchema = z
  .object({ errorRate: level.optional(), responseTime: level.optional(), cpuUsage: level.optional(), memoryUsage: level.optional() })
  .strict();

/** Validates partial thresholds and lays them over `base` (field by field). */
export function resolveThresholds(input: unknown, base: HealthThresholds = DEFAULT_THRESHOLDS, prefix = 'health.thresholds'): HealthThresholds {
  const parsed = parseOptions(thresholdsSchema, input ?? {}, prefix) as Partial<HealthThresholds>;
  const out = Object.freeze({
    errorRate: Object.freeze({ ...base.errorRate, ...parsed.errorRate }),
    responseTime: Object.freeze({ ...base.responseTime, ...parsed.responseTime }),
    cpuUsage: Object.freeze({ ...base.cpuUsage, ...parsed.cpuUsage }),
    memoryUsage: Object.freeze({ ...base.memoryUsage, ...parsed.memoryUsage }),
  });
  // The order is checked after merging: { critical: 0.01 } over the defaults would leave degraded above it.
  const problems: Array<{ path: string; message: string }> = [];
  for (const key of Object.keys(out) as Array<keyof HealthThresholds>) {
    const l = out[key];
    if ((l.degraded ?? 0) > (l.critical ?? Infinity) || (l.critical ?? l.degraded ?? 0) > (l.failed ?? Infinity)) {
      problems.push({
        path: `${prefix}.${key}`,
        message: `${prefix}.${key} must rise from degraded to critical to failed, got ${JSON.stringify(l)} (with the defaults filled in): set all three`,
      });
    }
  }
  if (problems.length) throw new ConfigValidationError(problems);
  return out;
}

const METRICS: ReadonlyArray<[keyof HealthThresholds, string, (v: number) => string]> = [
  ['errorRate', 'error rate', (v) => `${(v * 100).toFixed(1)}%`],
  ['responseTime', 'response time', (v) => `${v.toFixed(0)} ms`],
  ['cpuUsage', 'CPU', (v) => `${(v * 100).toFixed(0)}%`],
  ['memoryUsage', 'memory', (v) => `${(v * 100).toFixed(0)}%`],
];

function levelOf(value: number | undefined, t: LevelThresholds): HealthLevel {
  if (value === undefined || !Number.isFinite(value)) return 'healthy';
  if (t.failed !== undefined && value >= t.failed) return 'failed';
  if (t.critical !== undefined && value >= t.critical) return 'critical';
  if (t.degraded !== undefined && value >= t.degraded) return 'degraded';
  return 'healthy';
}

/**
 * The status one set of metrics calls for, on its own (no memory of earlier readings: see
 * {@link Hysteresis}). The worst metric decides; the reason names it with its value and limit.
 */
export function classify(
  metrics: HealthMetrics,
  thresholds: HealthThresholds,
  /** Words appended to the reason when that metric decides (e.g. how the value was judged). */
  notes?: Partial<Record<keyof HealthThresholds, string>>,
): HealthStatus {
  let worst: HealthLevel = 'healthy';
  let reason = '';
  for (const [key, name, format] of METRICS) {
    const value = metrics[key];
    const l = levelOf(value, thresholds[key]);
    if (LEVEL_VALUE[l] > LEVEL_VALUE[worst]) {
      worst = l;
      const limit = thresholds[key][l as Exclude<HealthLevel, 'healthy'>]!;
      const note = notes?.[key];
      reason = `${name} ${format(value!)} >= ${l} threshold ${format(limit)}${note ? ` (${note})` : ''}`;
    }
  }
  return worst === 'healthy' ? HEALTHY : { kind: worst, reason };
}

/** Worse of two statuses (the first on a tie). */
export function worse(a: HealthStatus, b: HealthStatus): HealthStatus {
  return LEVEL_VALUE[b.kind] > LEVEL_VALUE[a.kind] ? b : a;
}

/**
 * Keeps a status from flapping: a worse reading must repeat `toWorsen` times in a row before the
 * status worsens (a `failed` reading counts double, so outright failure is seen quickly), and a
 * better one `toRecover` times before it improves. One slow request then moves nothing.
 */
export class Hysteresis {
  private current: HealthStatus = HEALTHY;
  /** Direction of the readings counted so far: +1 worse than the status, -1 better. */
  private direction = 0;
  private streak = 0;
  /** The mildest move seen in the streak: where the status goes when the streak is long enough. */
  private target: HealthStatus | undefined;

  constructor(
    private readonly toWorsen = 2,
    private readonly toRecover = 3,
  ) {}

  get status(): HealthStatus {
    return this.current;
  }

  /**
   * Feeds one reading; returns the (possibly new) status. Readings count by direction, so worse
   * readings that alternate between two levels still move the status (to the milder of them).
   */
  update(reading: HealthStatus): HealthStatus {
    const cur = LEVEL_VALUE[this.current.kind];
    const next = LEVEL_VALUE[reading.kind];
    if (next === cur) {
      this.reset();
      if (reading.kind !== 'healthy') this.current = reading; // same level, fresher reason
      return this.current;
    }
    const direction = next > cur ? 1 : -1;
    if (direction !== this.direction) {
      this.reset();
      this.direction = direction;
    }
    this.streak += direction > 0 && reading.kind === 'failed' ? 2 : 1;
    const t = this.target;
    if (t === undefined || (direction > 0 ? next < LEVEL_VALUE[t.kind] : next > LEVEL_VALUE[t.kind])) this.target = reading;
    else if (LEVEL_VALUE[t.kind] === next) this.target = reading; // same level: fresher reason
    if (this.streak >= (direction > 0 ? this.toWorsen : this.toRecover)) {
      this.current = this.target!;
      this.reset();
    }
    return this.current;
  }

  /** Forgets the readings counted toward a change; the status stays. */
  reset(): void {
    this.direction = 0;
    this.streak = 0;
    this.target = undefined;
  }

  /** Sets the status outright (e.g. a check that failed hard). */
  force(status: HealthStatus): void {
    this.current = status;
    this.reset();
  }
}
