import type { HealthStatus } from '../health/index.js';

/** The failure types `failureTypeOf` gives; plans may use these or any other name. */
export const FAILURE_TYPES = [
  'error-rate',
  'latency',
  'anomaly',
  'cpu',
  'memory',
  'timeout',
  'connection-refused',
  'check-failed',
] as const;

// Read against the reasons src/health writes: classify() ("error rate 52.0% >= failed threshold
// 50.0%", "response time …", "CPU …", "memory …"), the anomaly hold ("latency anomaly (score …)")
// and active checks ("GET http://…: connect ECONNREFUSED …", "… timed out after 100 ms").
const RULES: ReadonlyArray<readonly [RegExp, (typeof FAILURE_TYPES)[number]]> = [
  [/^error rate\b/i, 'error-rate'],
  [/\banomal/i, 'anomaly'],
  [/^response time\b/i, 'latency'],
  [/^CPU\b/, 'cpu'],
  [/^memory\b/i, 'memory'],
  [/ECONNREFUSED|connection refused/i, 'connection-refused'],
  [/timed? ?out|ETIMEDOUT|TimeoutError/i, 'timeout'],
];

/**
 * The failure type a status stands for, from its reason: `error-rate`, `latency`, `anomaly`,
 * `cpu`, `memory`, `connection-refused`, `timeout`, else `check-failed`. A healthy status has no
 * failure; it maps to `check-failed` only so that the result is always a plan key.
 */
export function failureTypeOf(status: HealthStatus): string {
  if (status.kind === 'healthy') return 'check-failed';
  // The roll-up prefixes reasons with the component ("svc: error rate …"); the rules read past it.
  const reason = status.reason;
  const colon = reason.indexOf(': ');
  const own = colon >= 0 ? reason.slice(colon + 2) : reason;
  for (const [rule, type] of RULES) {
    if (rule.test(reason) || rule.test(own)) return type;
  }
  return 'check-failed';
}
