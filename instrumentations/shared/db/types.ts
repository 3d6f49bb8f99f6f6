import type { BreakerInstrumentationConfig } from '../BreakerInstrumentation.js';

/** The database systems we guard, named as `db.system.name` names them. */
export type DbSystem = 'postgresql' | 'mysql' | 'redis';

/** Where a database call goes. Never carries credentials. */
export interface DbDestination {
  system: DbSystem;
  /** Lower-cased host name or address (IPv6 without brackets). */
  host: string;
  port: number;
  /** Database name; for Redis the database index as a string (`'0'`). */
  database: string;
  /** `system://host:port/database` (IPv6 hosts in brackets): the breaker's default name. */
  name: string;
}

/** Options shared by the pg, mysql2 and ioredis breaker instrumentations. */
export interface DbBreakerOptions {
  /**
   * Destinations never put behind a breaker: a name (`postgresql://host:port/db`), a host name,
   * a RegExp tested against the name, or a predicate.
   */
  ignore?: ReadonlyArray<string | RegExp | ((destination: DbDestination) => boolean)>;
  /**
   * The final word on whether an error counts against the server; return `undefined` to keep
   * the default rule (connection errors, timeouts, server shutting down, too many connections
   * count; the application's own errors such as SQL syntax, constraint violations, Redis
   * WRONGTYPE, and wrong credentials do not).
   */
  isFailure?: (error: Error, destination: DbDestination) => boolean | undefined;
  /** The breaker name for a destination. Default: its `name` (`postgresql://host:port/db`). */
  breakerKey?: (destination: DbDestination) => string;
}

/** Configuration of one database breaker instrumentation. */
export interface DbBreakerInstrumentationConfig extends BreakerInstrumentationConfig, DbBreakerOptions {}

/** The default failure rule of one client: true when an error says the server (or the way to it) is failing. */
export type DbFailureRule = (error: Error) => boolean;
