import { CIRCUIT_OPEN_CODE } from '../../src/breaker/index.js';
import { NETWORK_ERROR_CODES } from '../shared/db/index.js';

const NETWORK_CODES = NETWORK_ERROR_CODES;

/**
 * SQLSTATEs that say the server is failing (PostgreSQL Appendix A): admin or crash shutdown,
 * "cannot connect now" (starting up, recovering), and the system errors outside PostgreSQL.
 */
const SERVER_STATES = new Set(['57P01', '57P02', '57P03', '58000', '58030']);

/**
 * Errors pg raises itself (no `code`) when the connection dies or one of its timeouts fires:
 * `query_timeout`, `connectionTimeoutMillis` (client and pool), a pool waiting for a client.
 */
const PG_MESSAGES = new Set([
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
  'timeout exceeded when trying to connect',
  'timeout expired',
  'Query read timeout',
  'Client has encountered a connection error and is not queryable',
]);

/**
 * The default pg failure rule: connection errors, pg's own timeouts, `statement_timeout`,
 * server shutdown, too many connections and other resource exhaustion (SQLSTATE class 53),
 * connection exceptions (class 08) and internal errors (class XX) count against the server.
 * The application's own errors (syntax 42, constraints 23, data 22, serialization 40...), wrong
 * credentials (28) and an unknown database (3D000) do not, nor does a refusal by a breaker.
 * Looks through `cause` (pg-pool wraps connect timeouts) and `AggregateError` (one error per
 * address tried).
 */
export function isPgFailure(error: Error): boolean {
  return failing(error, 0);
}

function failing(e: unknown, depth: number): boolean {
  if (!e || typeof e !== 'object' || depth > 4) return false;
  const { code, message, cause, errors } = e as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (code === CIRCUIT_OPEN_CODE) return false;
  if (typeof code === 'string' && code !== '') {
    if (NETWORK_CODES.has(code) || SERVER_STATES.has(code)) return true;
    const cls = code.slice(0, 2);
    if (code.length === 5 && (cls === '08' || cls === '53' || cls === 'XX')) return true;
    // 57014 is also a cancel the application asked for; only the statement timeout is the server's slowness.
    if (code === '57014') return typeof message === 'string' && message.includes('statement timeout');
  }
  if (typeof message === 'string' && PG_MESSAGES.has(message)) return true;
  if (Array.isArray(errors) && errors.some((x) => failing(x, depth + 1))) return true;
  return failing(cause, depth + 1);
}
