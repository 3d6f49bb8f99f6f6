import type { EventEmitter } from 'node:events';
import type { DbBreakerInstrumentationConfig } from '../shared/index.js';

/** Configuration of the mysql2 breaker instrumentation (the options shared by the database clients). */
export type MySql2BreakerInstrumentationConfig = DbBreakerInstrumentationConfig;

/**
 * The slices of mysql2's internals the instrumentation reads (mysql2 3.x, `lib/base/*.js`), kept
 * structural so that no mysql2 type is needed at run time. Every read is defensive: a field that
 * is missing makes the call go through unguarded, never fail.
 */
export type Callback = (this: unknown, err: unknown, ...results: unknown[]) => unknown;

/** `ConnectionConfig`: where the connection goes. `pool` is set on the configs of pooled connections. */
export interface MySqlConfig {
  host?: string;
  port?: number | string;
  database?: string;
  socketPath?: string;
  isServer?: boolean;
  pool?: object;
}

/** A command (`Query`, `Execute`, `ClientHandshake`, …): an EventEmitter with an optional callback. */
export interface MySqlCommand extends EventEmitter {
  onResult?: Callback;
  /** Set on a `ClientHandshake` once the server's hello arrived. */
  handshake?: unknown;
}

/** `BaseConnection`. */
export interface MySqlConnection extends EventEmitter {
  config: MySqlConfig;
  stream: NodeJS.ReadWriteStream & { destroy(error?: Error): void };
  _command: MySqlCommand | null;
  _handshakePacket: unknown;
  _fatalError: Error | null;
  _protocolError: Error | null;
  addCommand(cmd: MySqlCommand): MySqlCommand;
  destroy(): void;
}

/** mysql2's `RingQueue`. */
export interface RingQueue<T> {
  readonly length: number;
  get(index: number): T;
}

/** `BasePool`. */
export interface MySqlPool extends EventEmitter {
  config: { connectionConfig: MySqlConfig; connectionLimit: number };
  _closed: boolean;
  _allConnections: RingQueue<MySqlConnection>;
  _freeConnections: RingQueue<MySqlConnection>;
}

/** `BaseConnection.createQuery`, the static that builds a `Query` command from `query()`'s arguments. */
export type CreateQuery = (sql: unknown, values: unknown, cb: unknown, config: MySqlConfig) => MySqlCommand;
