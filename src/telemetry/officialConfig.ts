import { maskSql, redisStatement } from './redact.js';

/**
 * The configuration withSelfHealing gives an official instrumentation it adds, so that what the
 * instrumentation puts on spans holds no secret from the start (the redacting span processor
 * covers the rest, and instrumentations you configure yourself):
 * - mysql2: `maskStatement` with our SQL masking. Its default formats the values into
 *   `db.query.text` whenever it holds mysql2's `format` (in 0.69 it happens not to, by load order).
 * - ioredis: a `dbStatementSerializer` that shows the command and its key only; the default shows
 *   `EVAL` arguments and set members in full.
 * Undefined for the others: their defaults are kept.
 */
export function officialInstrumentationConfig(pkg: string): Record<string, unknown> | undefined {
  switch (pkg) {
    case '@opentelemetry/instrumentation-mysql2':
      return { maskStatement: true, maskStatementHook: (sql: string) => maskSql(sql, 'mysql') };
    case '@opentelemetry/instrumentation-ioredis':
      return { dbStatementSerializer: redisStatement };
    default:
      return undefined;
  }
}
