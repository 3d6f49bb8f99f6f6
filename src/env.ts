import { ConfigValidationError } from './config/index.js';
import type { SelfHealingOptions } from './options.js';

/**
 * Plugin options from `SELFHEAL_*` environment variables, for `otel-self-heal/register`:
 *
 * | variable | option |
 * |---|---|
 * | SELFHEAL_ENABLED | enabled (`false` turns the plugin off) |
 * | SELFHEAL_BREAKER_FAILURE_THRESHOLD | breaker.failureThreshold |
 * | SELFHEAL_BREAKER_MINIMUM_REQUESTS | breaker.minimumRequests |
 * | SELFHEAL_BREAKER_RESET_TIMEOUT_MS | breaker.resetTimeout |
 * | SELFHEAL_BREAKER_WINDOW_TYPE / _WINDOW_SIZE | breaker.windowType / windowSize |
 * | SELFHEAL_BREAKER_SLOW_CALL_MS / _SLOW_CALL_RATE | breaker.slowCallDurationThreshold / slowCallRateThreshold |
 * | SELFHEAL_HTTP_IGNORE | http.ignore (comma-separated origins or host names) |
 * | SELFHEAL_HTTP_FETCH / SELFHEAL_HTTP_NODE | http.fetch / http.node |
 * | SELFHEAL_HTTP_CAPTURE_QUERY_STRING | http.captureQueryString |
 * | SELFHEAL_DB_IGNORE | db.ignore (comma-separated breaker names or host names) |
 * | SELFHEAL_DB_PG / SELFHEAL_DB_MYSQL2 / SELFHEAL_DB_IOREDIS | db.pg / db.mysql2 / db.ioredis |
 * | SELFHEAL_REDACT | redact |
 * | SELFHEAL_STATUS_PORT | statusServer.port (setting it turns the status page on) |
 * | SELFHEAL_STATUS_HOST / SELFHEAL_STATUS_TOKEN / SELFHEAL_STATUS_JAEGER_URL | statusServer.host / .token / .jaegerUrl |
 * | SELFHEAL_MAX_BREAKERS | maxBreakers |
 * | SELFHEAL_OVERRIDES | overrides, as JSON |
 */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): SelfHealingOptions {
  const problems: Array<{ path: string; message: string }> = [];
  const num = (name: string): number | undefined => {
    const v = env[name];
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    if (Number.isNaN(n)) problems.push({ path: name, message: `${name} must be a number, got ${JSON.stringify(v)}` });
    return n;
  };
  const bool = (name: string): boolean | undefined => {
    const v = env[name]?.toLowerCase();
    if (v === undefined || v === '') return undefined;
    if (['true', '1', 'yes', 'on'].includes(v)) return true;
    if (['false', '0', 'no', 'off'].includes(v)) return false;
    problems.push({ path: name, message: `${name} must be true or false, got ${JSON.stringify(env[name])}` });
    return undefined;
  };
  const breaker = prune({
    failureThreshold: num('SELFHEAL_BREAKER_FAILURE_THRESHOLD'),
    minimumRequests: num('SELFHEAL_BREAKER_MINIMUM_REQUESTS'),
    resetTimeout: num('SELFHEAL_BREAKER_RESET_TIMEOUT_MS'),
    windowType: env.SELFHEAL_BREAKER_WINDOW_TYPE as 'count' | 'time' | undefined,
    windowSize: num('SELFHEAL_BREAKER_WINDOW_SIZE'),
    slowCallDurationThreshold: num('SELFHEAL_BREAKER_SLOW_CALL_MS'),
    slowCallRateThreshold: num('SELFHEAL_BREAKER_SLOW_CALL_RATE'),
  });
  let overrides: SelfHealingOptions['overrides'];
  if (env.SELFHEAL_OVERRIDES) {
    try {
      overrides = JSON.parse(env.SELFHEAL_OVERRIDES) as SelfHealingOptions['overrides'];
    } catch {
      problems.push({ path: 'SELFHEAL_OVERRIDES', message: 'SELFHEAL_OVERRIDES must be JSON, e.g. {"http://api:8080":{"failureThreshold":0.2}}' });
    }
  }
  const ignore = env.SELFHEAL_HTTP_IGNORE?.split(',').map((s) => s.trim()).filter(Boolean);
  const http = prune({
    ignore,
    fetch: bool('SELFHEAL_HTTP_FETCH'),
    node: bool('SELFHEAL_HTTP_NODE'),
    captureQueryString: bool('SELFHEAL_HTTP_CAPTURE_QUERY_STRING'),
  });
  const db = prune({
    ignore: env.SELFHEAL_DB_IGNORE?.split(',').map((s) => s.trim()).filter(Boolean),
    pg: bool('SELFHEAL_DB_PG'),
    mysql2: bool('SELFHEAL_DB_MYSQL2'),
    ioredis: bool('SELFHEAL_DB_IOREDIS'),
  });
  const statusPort = num('SELFHEAL_STATUS_PORT');
  const statusServer =
    statusPort === undefined
      ? undefined
      : prune({ port: statusPort, host: env.SELFHEAL_STATUS_HOST || undefined, token: env.SELFHEAL_STATUS_TOKEN || undefined, jaegerUrl: env.SELFHEAL_STATUS_JAEGER_URL || undefined });
  const redact = bool('SELFHEAL_REDACT');
  const enabled = bool('SELFHEAL_ENABLED');
  const maxBreakers = num('SELFHEAL_MAX_BREAKERS');
  if (problems.length) throw new ConfigValidationError(problems);
  return prune({
    enabled,
    breaker: Object.keys(breaker).length ? breaker : undefined,
    overrides,
    http: Object.keys(http).length ? http : undefined,
    db: Object.keys(db).length ? db : undefined,
    redact,
    statusServer,
    maxBreakers,
  });
}

function prune<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
