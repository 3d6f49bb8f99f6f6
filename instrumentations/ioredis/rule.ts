import { NETWORK_ERROR_CODES } from '../shared/db/index.js';

/** A connection that could not be made or was lost. */
const CONNECTION_CODES = NETWORK_ERROR_CODES;

/**
 * Redis reply error codes (the reply's first word) that say the server cannot serve now, whoever
 * asks: loading its data set, replica without its master, read-only replica after a failover,
 * a script running past its time limit, cluster slots moving or down, not enough replicas,
 * persistence failing, out of memory. Compared as whole words: `BUSYKEY` and `BUSYGROUP` are
 * the application's own errors.
 */
const SERVER_CODES = new Set(['LOADING', 'MASTERDOWN', 'READONLY', 'BUSY', 'TRYAGAIN', 'CLUSTERDOWN', 'NOREPLICAS', 'MISCONF', 'OOM']);

/** Messages ioredis gives commands that could not be sent or answered. */
const CLIENT_MESSAGES = [
  'Connection is closed.',
  "Stream isn't writeable and enableOfflineQueue options is false",
  'Command timed out',
  'Command aborted due to connection close',
  'Socket timeout',
];

/** Error names ioredis gives when the connection is lost for good or every cluster node failed. */
const CLIENT_NAMES = new Set(['MaxRetriesPerRequestError', 'ClusterAllFailedError']);

/**
 * The default failure rule for ioredis: true when the error says the server, or the way to it,
 * is failing. Connection errors, ioredis' own timeouts (`commandTimeout`, `connectTimeout`,
 * `socketTimeout`) and retry limits, server-side unavailability (`LOADING`, `BUSY`, …) and
 * `ERR max number of clients reached` count. The application's own errors (`WRONGTYPE`,
 * `ERR syntax error`, unknown command, wrong arguments, `NOSCRIPT`, `EXECABORT`) and
 * credentials (`NOAUTH`, `WRONGPASS`, `NOPERM`) do not: the server is answering.
 */
export function isRedisFailure(error: Error): boolean {
  const e = error as Error & { code?: unknown; errno?: unknown };
  if (e.code === 'ECIRCUITOPEN') return false; // refused by a breaker: says nothing about the server
  if (typeof e.code === 'string' && CONNECTION_CODES.has(e.code)) return true;
  if (CLIENT_NAMES.has(e.name)) return true;
  const message = typeof e.message === 'string' ? e.message : '';
  // Server replies (ReplyError) start with their code.
  const space = message.indexOf(' ');
  const code = space < 0 ? message : message.slice(0, space);
  if (SERVER_CODES.has(code)) return true;
  if (code === 'ERR') return message.startsWith('ERR max number of clients reached');
  for (const m of CLIENT_MESSAGES) if (message.startsWith(m)) return true;
  return false;
}
