import { HEALTHY, LEVEL_VALUE, type HealthMetrics, type HealthStatus } from '../types.js';

const MAX_REASON = 300;

/** A failed status; the reason is cut to {@link MAX_REASON} characters (it ends up in logs and attributes). */
export function failed(reason: string): HealthStatus {
  return { kind: 'failed', reason: reason.length > MAX_REASON ? `${reason.slice(0, MAX_REASON - 3)}...` : reason };
}

/** The text of an error (or of whatever was thrown) for a status reason. */
export function reasonOf(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string') {
    return (err as { message: string }).message;
  }
  return String(err);
}

/** What one check resolved with, turned into a status (and the metrics, if it returned metrics). */
export interface Reading {
  readonly status: HealthStatus;
  readonly metrics: HealthMetrics | undefined;
}

const HEALTHY_READING: Reading = Object.freeze({ status: HEALTHY, metrics: undefined });

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value === 'string' ? `a string` : String(value);
}

/**
 * Reads what a check resolved with. An object with a `kind` is a status (an unknown kind is a
 * failed reading, not a guess); any other object is metrics, stamped with `now` if it has no
 * timestamp; anything else but `true`/`false`/`undefined` is a failed reading naming what came back.
 */
export function readingOf(value: unknown, classify: (metrics: HealthMetrics) => HealthStatus, now: number): Reading {
  if (value === undefined || value === true) return HEALTHY_READING;
  if (value === false) return { status: failed('the check returned false'), metrics: undefined };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { status: failed(`the check returned ${describe(value)}; expected a status, metrics, a boolean or nothing`), metrics: undefined };
  }
  if ('kind' in value) {
    const { kind, reason } = value as { kind: unknown; reason?: unknown };
    if (typeof kind !== 'string' || !Object.hasOwn(LEVEL_VALUE, kind)) {
      return { status: failed(`the check returned an unknown status kind ${JSON.stringify(kind)}`), metrics: undefined };
    }
    if (kind === 'healthy') return HEALTHY_READING;
    const status = typeof reason === 'string' ? (value as HealthStatus) : ({ kind, reason: `the check reported ${kind}` } as HealthStatus);
    return { status, metrics: undefined };
  }
  const raw = value as HealthMetrics;
  const metrics = typeof raw.timestamp === 'number' ? raw : { ...raw, timestamp: now };
  return { status: classify(metrics), metrics };
}
