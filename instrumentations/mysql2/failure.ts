import { isCircuitOpenError } from '../../src/breaker/index.js';
import { NETWORK_ERROR_CODES } from '../shared/db/index.js';

/**
 * Error codes that say the server (or the way to it) is failing: the connection could not be
 * made or was lost, mysql2's own connect and query timeouts, the server shutting down or killing
 * the connection, and "too many connections".
 */
const FAILURE_CODES: ReadonlySet<string> = new Set([
  ...NETWORK_ERROR_CODES,
  // mysql2: the server closed the connection; a query's `timeout` passed with no answer.
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  // Server errors.
  'ER_CON_COUNT_ERROR', // 1040 Too many connections
  'ER_OUT_OF_RESOURCES', // 1041
  'ER_SERVER_SHUTDOWN', // 1053 Server shutdown in progress
  'ER_NET_READ_ERROR', // 1158
  'ER_NET_READ_INTERRUPTED', // 1159
  'ER_NET_ERROR_ON_WRITE', // 1160
  'ER_NET_WRITE_INTERRUPTED', // 1161
  'ER_TOO_MANY_USER_CONNECTIONS', // 1203
  'ER_QUERY_TIMEOUT', // 3024 MySQL max_execution_time
]);

/** The same server errors by number, and MariaDB's own, which mysql2 has no name for. */
const FAILURE_ERRNOS: ReadonlySet<number> = new Set([
  1040, 1041, 1053, 1158, 1159, 1160, 1161, 1203, 3024,
  1927, // MariaDB ER_CONNECTION_KILLED: the connection was killed (shutdown, KILL CONNECTION)
  1969, // MariaDB ER_STATEMENT_TIMEOUT: max_statement_time passed
]);

/**
 * The default failure rule of mysql2 calls: true only for the errors above. Everything else is
 * the application's or its configuration's: SQL errors (ER_PARSE_ERROR, ER_NO_SUCH_TABLE,
 * ER_DUP_ENTRY, ER_BAD_FIELD_ERROR, lock waits and deadlocks, …), wrong credentials and grants
 * (ER_ACCESS_DENIED_ERROR 1045, ER_ACCESS_DENIED_NO_PASSWORD_ERROR 1698, ER_DBACCESS_DENIED_ERROR,
 * ER_BAD_DB_ERROR), a pool that is closed or full, a connection used after it closed. mysql2's
 * `fatal` flag is not read: it is also set on authentication failures. A refusal by a breaker
 * (CircuitOpenError) is never the server's failure.
 */
export function isMySqlFailure(error: Error): boolean {
  if (isCircuitOpenError(error)) return false;
  const { code, errno } = error as { code?: unknown; errno?: unknown };
  if (typeof code === 'string' && FAILURE_CODES.has(code)) return true;
  return typeof errno === 'number' && FAILURE_ERRNOS.has(errno);
}
